package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.device.DeviceRef;
import dev.ferry.device.Mode;
import dev.ferry.device.Step;
import dev.ferry.migration.Fakes.Dest;
import dev.ferry.migration.Fakes.Device;
import dev.ferry.migration.Fakes.Log;
import dev.ferry.migration.Fakes.Source;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MigrationCoordinatorTest {
    private static final int DEVICES = 3;

    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Log log = new Log();
    private final Source source = new Source(log);
    private final Dest dest = new Dest(log);
    private final List<Device> devices = new ArrayList<>();
    private final MemoryStore store = new MemoryStore();

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    private MigrationReport migrate(Cancellation cancel) throws InterruptedException {
        return coordinator().migrate(plan(), source, dest, journal("m1"), MigrationListener.NONE, cancel);
    }

    private MigrationReport migrate() throws InterruptedException {
        return migrate(new Cancellation());
    }

    private MigrationCoordinator coordinator() {
        return new MigrationCoordinator(Clock.systemUTC(), executor);
    }

    private Journal journal(String id) {
        return new Journal(store, id, "web1", Role.SOURCE, "dst", Clock.systemUTC());
    }

    private MigrationPlan plan() {
        while (devices.size() < DEVICES) {
            devices.add(new Device("d" + devices.size(), log));
        }
        List<MigrationPlan.Unit> units = devices.stream()
                .map(d -> new MigrationPlan.Unit(new DeviceRef(d.id, "external", ""), d)).toList();
        MigrationParams params = new MigrationParams(Duration.ofMillis(300), 0, true, Duration.ofSeconds(5),
                Duration.ofMillis(500));
        return new MigrationPlan("m1", "web1", "uuid-1", "src", Mode.LIVE, "dst", units, params);
    }

    private Device device(int i) {
        plan();
        return devices.get(i);
    }

    @Test
    void completedMigration_runsEveryPhaseInOrder_andReleasesTheSource() throws Exception {
        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.COMPLETED);
        assertThat(store.phases("m1")).containsExactly(Phase.CHECK, Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY,
                Phase.POST_SUSPEND, Phase.SYNC, Phase.SWITCHOVER, Phase.CLEANUP, Phase.COMPLETED);
        assertThat(log.lines).containsSubsequence("dest prepare", "pre-suspend d0", "pre-suspend d2",
                "qemu migrate tcp:127.0.0.1:4444", "qemu pre-switchover", "qemu continue", "qemu completed",
                "dest switchover", "source release");
        assertThat(log.matching("recover")).isEmpty();
        assertThat(log.lines).doesNotContain("source resume", "dest abort");
        assertThat(report.downtimeMs()).isNotNull();
        assertThat(report.qemuDowntimeMs()).isEqualTo(42L);
        assertThat(report.deviceSteps()).filteredOn(s -> s.step().equals("post-suspend")).hasSize(DEVICES);
    }

    static Stream<Arguments> everyStepAndPosition() {
        List<Arguments> cases = new ArrayList<>();
        for (Step step : List.of(Step.PRE_SUSPEND, Step.POST_SUSPEND, Step.SYNC)) {
            for (int position = 0; position < DEVICES; position++) {
                for (boolean running : List.of(true, false)) {
                    cases.add(Arguments.of(step, position, running));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} fails at device {1}, running before: {2}")
    @MethodSource("everyStepAndPosition")
    void deviceFailure_recoversExactlyTheStartedDevices_newestFirst(Step step, int position, boolean running)
            throws Exception {
        device(position).failingAt(step);
        source.running = running;

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.failure().device()).isEqualTo("device 'd" + position + "' (external)");
        assertThat(report.failure().step()).isEqualTo(step.toolName());
        assertThat(report.failure().message()).isEqualTo("d" + position + " broke at " + step.toolName());
        assertThat(log.matching("recover")).containsExactlyElementsOf(expectedRecoveries(step, position));
        assertThat(log.lines).contains("dest abort");
        assertThat(log.lines.contains("source resume")).isEqualTo(running);
        assertThat(log.lines).doesNotContain("dest switchover", "source release");
        assertThat(store.phases("m1")).endsWith(Phase.ROLLING_BACK, Phase.ROLLED_BACK);
    }

    /** The recoveries a failure at {@code step} of device {@code position} must cause, in order. */
    private static List<String> expectedRecoveries(Step step, int position) {
        List<String> expected = new ArrayList<>();
        int lastStarted = step == Step.PRE_SUSPEND ? position : DEVICES - 1;
        Step previous = Step.values()[step.ordinal() - 1];
        for (int i = lastStarted; i >= 0; i--) {
            Step lastGood = i == position ? previous : (step == Step.PRE_SUSPEND ? Step.PRE_SUSPEND : step);
            expected.add("recover d" + i + " " + lastGood.toolName());
        }
        return expected;
    }

    @Test
    void ramCopyFailure_recoversEveryDeviceFromPreSuspend_andCancelsQemu() throws Exception {
        source.failRamCopy = true;

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.failure().phase()).isEqualTo("ram-copy");
        assertThat(log.matching("recover")).containsExactly(
                "recover d2 pre-suspend", "recover d1 pre-suspend", "recover d0 pre-suspend");
        assertThat(log.lines).containsSubsequence("qemu cancel", "recover d2 pre-suspend", "source resume", "dest abort");
    }

    @Test
    void anErrorDuringTheRamCopy_rollsBackLikeAFailure_andNamesIt() throws Exception {
        source.errorInRamCopy = new StackOverflowError();

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.failure().message()).isEqualTo("the migration ran into java.lang.StackOverflowError");
        assertThat(log.lines).containsSubsequence("qemu cancel", "recover d2 pre-suspend", "source resume", "dest abort");
    }

    @Test
    void prepareFailure_recoversNoDevice_butTearsDownTheDestination() throws Exception {
        dest.failPrepare = true;

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.failure().message()).contains("swtpm failed to start");
        assertThat(log.matching("recover")).isEmpty();
        assertThat(log.lines).contains("dest abort").doesNotContain("qemu cancel", "qemu migrate tcp:127.0.0.1:4444");
    }

    @Test
    void completionFailure_recoversEveryDeviceFromSync() throws Exception {
        source.failCompletion = true;

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(log.matching("recover")).containsExactly("recover d2 sync", "recover d1 sync", "recover d0 sync");
    }

    @Test
    void refusals_areAllReportedTogether_andNothingStarts() throws Exception {
        device(0).refusing("passthrough PCI device 0000:03:00.0 cannot migrate");
        device(2).refusing("no migration tool is configured for tpm");
        dest.blockers = List.of(new MigrationReport.Blocker("destination", null, "bridge br9 is missing"));

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.REFUSED);
        assertThat(report.blockers()).extracting(MigrationReport.Blocker::reason).containsExactly(
                "passthrough PCI device 0000:03:00.0 cannot migrate", "no migration tool is configured for tpm",
                "bridge br9 is missing");
        assertThat(log.lines).doesNotContain("dest prepare", "dest abort", "source resume")
                .noneMatch(l -> l.startsWith("pre-suspend") || l.startsWith("recover"));
        assertThat(store.phases("m1")).containsExactly(Phase.CHECK, Phase.REFUSED);
    }

    @Test
    void dryRun_listsBlockers_andJournalsNothing() throws Exception {
        device(1).refusing("no migration tool is configured for tpm");

        MigrationReport report = coordinator().dryRun(plan(), dest, MigrationListener.NONE);

        assertThat(report.result()).isEqualTo(Result.REFUSED);
        assertThat(report.blockers()).hasSize(1);
        assertThat(store.phases("m1")).isEmpty();
        assertThat(log.lines).containsOnly("check d0", "check d1", "check d2", "dest check");
    }

    @Test
    void hungPostSuspend_timesOut_andRollsBack() throws Exception {
        device(1).hangingAt(Step.POST_SUSPEND);

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.failure().device()).isEqualTo("device 'd1' (external)");
        assertThat(report.failure().message()).contains("did not finish post-suspend within 500 ms");
        assertThat(log.matching("recover")).containsExactly(
                "recover d2 post-suspend", "recover d1 pre-suspend", "recover d0 post-suspend");
    }

    @Test
    void cancelDuringRamCopy_rollsBackLikeAFailure() throws Exception {
        Cancellation cancel = new Cancellation();
        source.cancellation = cancel;
        source.cancelDuringRamCopy = true;

        MigrationReport report = migrate(cancel);

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.failure().message()).isEqualTo("cancelled: operator asked");
        assertThat(log.lines).containsSubsequence("qemu cancel", "recover d2 pre-suspend", "source resume", "dest abort");
    }

    @Test
    void cancelWhileADeviceStepHangs_stopsWaitingAtOnce_andRollsBack() throws Exception {
        device(1).hangingAt(Step.POST_SUSPEND);
        MigrationPlan slow = new MigrationPlan("m2", "web1", "uuid-1", "src", Mode.LIVE, "dst", plan().devices(),
                new MigrationParams(Duration.ofMillis(300), 0, true, Duration.ofSeconds(5), Duration.ofSeconds(60)));
        Cancellation cancel = new Cancellation();
        executor.submit(() -> {
            await().until(() -> log.lines.contains("post-suspend d1"));
            cancel.cancel("operator asked");
        });

        MigrationReport report = coordinator().migrate(slow, source, dest, journal("m2"), MigrationListener.NONE, cancel);

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.failure().message()).startsWith("cancelled by the operator during post-suspend");
        assertThat(log.matching("recover")).containsExactly(
                "recover d2 post-suspend", "recover d1 pre-suspend", "recover d0 post-suspend");
        assertThat(log.lines).contains("qemu cancel", "dest abort", "source resume");
    }

    @Test
    void unreachableDestinationAtSwitchover_neverResumesTheSource() throws Exception {
        dest.switchoverFailure = new MigrationException("cannot reach agent dst: connection refused");

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.FAILED);
        assertThat(report.failure().message()).contains("will not resume it");
        assertThat(report.ownerUnknown()).isTrue();
        assertThat(store.journal("m1").get(store.journal("m1").size() - 1))
                .satisfies(e -> assertThat(e.phase()).isEqualTo(Phase.FAILED))
                .satisfies(e -> assertThat(e.ownerUnknown()).isTrue());
        assertThat(log.lines).doesNotContain("source resume", "dest abort", "source release");
        assertThat(log.matching("recover")).isEmpty();
    }

    @Test
    void destinationThatDidNotTakeTheVm_rollsBack_andResumesTheSource() throws Exception {
        dest.switchoverFailure = new Destination.NotTakenException("incoming QEMU exited");

        MigrationReport report = migrate();

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(log.lines).containsSubsequence("dest switchover", "recover d2 sync", "dest abort", "source resume");
    }

    @Test
    void cancelWhileADeviceCheckHangs_isACancel_notARefusal_andStartsNothing() throws Exception {
        device(1).hangingAt(Step.CHECK);
        Cancellation cancel = new Cancellation();
        executor.submit(() -> {
            await().until(() -> log.lines.contains("check d1"));
            cancel.cancel("operator asked");
        });

        MigrationReport report = migrate(cancel);

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.blockers()).isEmpty();
        assertThat(report.failure().phase()).isEqualTo("check");
        assertThat(report.failure().message()).contains("operator asked");
        assertThat(log.lines).doesNotContain("dest prepare", "qemu cancel", "dest abort");
        assertThat(log.matching("recover")).isEmpty();
    }
}
