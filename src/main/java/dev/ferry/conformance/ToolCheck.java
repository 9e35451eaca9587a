package dev.ferry.conformance;

import dev.ferry.device.DeviceEvent;
import dev.ferry.device.DeviceRef;
import dev.ferry.device.ExternalToolController;
import dev.ferry.device.Mode;
import dev.ferry.device.ToolDialect;
import dev.ferry.device.ToolRunner;
import dev.ferry.device.ToolSpec;
import dev.ferry.migration.Cancellation;
import dev.ferry.migration.Destination;
import dev.ferry.migration.FileDestination;
import dev.ferry.migration.Journal;
import dev.ferry.migration.MigrationCoordinator;
import dev.ferry.migration.MigrationListener;
import dev.ferry.migration.MigrationParams;
import dev.ferry.migration.MigrationPlan;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.Result;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code ferry tool check}: drives a migration tool through every step and every recovery its
 * dialect produces, by running whole migrations through the production coordinator in a scratch
 * directory, and reports each call and every breach of the contract.
 */
public final class ToolCheck {
    /** The VM every scenario migrates. */
    static final String VM = "ferry-check";
    private static final int MAX_CHANGES = 5;

    private final Path scratchParent;
    private final Clock clock;

    /** @param scratchParent where the scratch directory is made (and removed at the end) */
    public ToolCheck(Path scratchParent, Clock clock) {
        this.scratchParent = scratchParent;
        this.clock = clock;
    }

    /**
     * Runs every scenario (stopping early only when the tool refuses at step 0).
     *
     * @throws IllegalArgumentException when the tool does not exist or cannot be run
     * @throws IOException              when the scratch directory cannot be made or removed
     */
    public CheckReport run(CheckOptions options) throws IOException, InterruptedException {
        options.requireRunnableTool();
        ToolSpec spec = ToolSpec.of(options.tool().toAbsolutePath(), options.dialect());
        List<ScenarioRun> runs = new ArrayList<>();
        ExecutorService steps = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "tool-check-steps");
            t.setDaemon(true);
            return t;
        });
        try (Scratch scratch = Scratch.create(scratchParent)) {
            CallProbe probe = new CallProbe(scratch, options.dialect(), spec.outputCapBytes());
            ExternalToolController controller = new ExternalToolController(new ToolRunner(new ProcessRunner(probe)), spec);
            MigrationCoordinator coordinator = new MigrationCoordinator(clock, steps);
            String uuid = UUID.randomUUID().toString();
            for (Scenario scenario : Scenario.all()) {
                WatchedTool tool = new WatchedTool(controller, probe, scratch, scenario.toolFailsAt());
                ScenarioRun run = runOne(coordinator, options, scratch, scenario, tool, uuid, runs.size() + 1);
                runs.add(run);
                if (run.refused()) {
                    break;
                }
            }
        } finally {
            steps.shutdownNow();
        }
        return new CheckReport(options, runs);
    }

    private ScenarioRun runOne(MigrationCoordinator coordinator, CheckOptions options, Scratch scratch,
                               Scenario scenario, WatchedTool tool, String uuid, int n)
            throws IOException, InterruptedException {
        DeviceRef device = options.device();
        List<MigrationPlan.Unit> units = List.of(
                new MigrationPlan.Unit(Neighbour.BEFORE, new Neighbour(scenario.neighbourFailsAt(true))),
                new MigrationPlan.Unit(device, tool.bound()),
                new MigrationPlan.Unit(Neighbour.AFTER, new Neighbour(scenario.neighbourFailsAt(false))));
        String destinationName;
        Destination destination;
        if (options.mode() == Mode.SAVE) {
            Path file = scratch.destination().resolve(VM + ".save");
            destination = new FileDestination(file, VM, uuid, "name: " + VM + "\n", 0, clock);
            destinationName = file.toString();
        } else {
            destination = new StagedDestination(device, scratch.destination());
            destinationName = options.destination();
        }
        MigrationPlan plan = new MigrationPlan("check-" + n, VM, uuid, "source", options.mode(), destinationName,
                units, MigrationParams.defaults());
        Map<String, String> before = scratch.snapshot();
        MigrationReport report = coordinator.migrate(plan, new StagedSource(clock,
                        scenario.failing() == Scenario.Failing.QEMU_AFTER_SYNC), destination,
                Journal.discarding(plan.id(), VM, clock), messagesOf(device, tool), new Cancellation());
        List<ScenarioRun.Finding> problems = new ArrayList<>();
        if (report.result() == Result.ROLLED_BACK || report.result() == Result.FAILED) {
            judgeRollback(options.dialect(), scratch, tool, before, problems);
        }
        List<CheckedCall> calls = tool.calls();
        boolean expected = report.result() == (scenario.completes() ? Result.COMPLETED : Result.ROLLED_BACK);
        if (!expected && report.result() != Result.REFUSED && calls.stream().noneMatch(CheckedCall::failed)) {
            problems.add(new ScenarioRun.Finding("the migration ended " + report.result().wireName(),
                    report.failure() == null ? "" : report.failure().describe()));
        }
        scratch.clear();
        return new ScenarioRun(scenario, report.result(), calls, problems);
    }

    /** Passes what the tool's device says to the call under way, as the report would note it. */
    private static MigrationListener messagesOf(DeviceRef device, WatchedTool tool) {
        return new MigrationListener() {
            @Override
            public void device(String migrationId, DeviceEvent event) {
                if (event.device().equals(device) && event.message() != null) {
                    tool.said(event.message());
                }
            }
        };
    }

    /** After a rollback the scratch directory must be as before the migration, and stay so when the recovery is repeated. */
    private static void judgeRollback(ToolDialect dialect, Scratch scratch, WatchedTool tool,
                                      Map<String, String> before, List<ScenarioRun.Finding> problems) {
        Map<String, String> rolledBack = scratch.snapshot();
        List<String> left = Scratch.changes(before, rolledBack, MAX_CHANGES);
        if (!left.isEmpty()) {
            String flag = dialect == ToolDialect.XEN ? "-recover" : "--step recover";
            problems.add(new ScenarioRun.Finding("after the rollback the scratch directory differs from before the"
                    + " migration; recover must undo what the steps did (does the tool ignore " + flag
                    + " and do the step again?)", String.join(", ", left)));
        }
        if (!tool.recovered()) {
            return;
        }
        tool.recoverAgain();
        List<String> changed = Scratch.changes(rolledBack, scratch.snapshot(), MAX_CHANGES);
        if (!changed.isEmpty()) {
            problems.add(new ScenarioRun.Finding("a repeated recover changed files; recover must be idempotent:"
                    + " Ferry repeats it after a crash", String.join(", ", changed)));
        }
    }
}
