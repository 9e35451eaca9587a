package dev.ferry.cli;

import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.migration.Result;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ferry migrate VM --to HOST}: a live migration, followed until it ends. */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Live-migrate a VM, with its devices, to another host's agent.",
                "Every device checks first; any refusal ends the migration before anything starts, with every "
                        + "blocker listed. On a terminal a progress bar shows the phase and the RAM copy; at the end "
                        + "a report lists phases, device steps and the guest's downtime.",
                "Without a terminal (a log, a pipe) it prints a line at each phase and every 5 s of copying instead.",
                "Ctrl-C (or SIGTERM) before the switchover cancels the migration: it rolls back, the VM stays on the "
                        + "source, and the report is printed. Past the switchover the VM belongs to the destination: the "
                        + "cancel is refused and the migration is followed to its end. --detach returns at once instead."},
        footerHeading = "%nExit codes:%n",
        footer = {"  0    the VM runs on the destination (or a dry run found no blocker; --detach: the migration started)",
                "  1    the migration was refused, rolled back or failed (the report says which and why)",
                "  2    the command line is wrong",
                "  3    no agent answered at the URL",
                "  130  interrupted: Ctrl-C cancelled the migration and it rolled back"})
final class MigrateCommand implements Callable<Integer> {
    @Mixin
    final ClientOptions options;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "VM", description = "The VM to migrate.")
    String vm;

    @Option(names = "--to", required = true, paramLabel = "HOST",
            description = "The destination: a peer's name from the agent's config, or its agent URL.")
    String to;

    @Option(names = "--dry-run", description = "Only run the checks on both sides and list every blocker.")
    boolean dryRun;

    @Option(names = "--downtime-ms", paramLabel = "N", description = "The downtime QEMU may take for the final copy (default 300).")
    Long downtimeMs;

    @Option(names = "--bandwidth", paramLabel = "MIB", description = "Cap the RAM copy at MIB MiB/s (default: no cap).")
    Long bandwidthMiB;

    @Option(names = "--disk-bandwidth", paramLabel = "MIB",
            description = "Cap the copy of local (not shared) disks at MIB MiB/s (default: no cap).")
    Long diskBandwidthMiB;

    @Option(names = "--no-auto-converge", description = "Do not let QEMU throttle the guest when RAM does not converge.")
    boolean noAutoConverge;

    @Option(names = "--converge-timeout", paramLabel = "SECONDS",
            description = "Give up and roll back when the RAM copy has not converged by then (default 300).")
    Long convergeTimeout;

    @Option(names = "--stall-timeout", paramLabel = "SECONDS",
            description = {"Roll back when the RAM or disk copy makes no progress, or the source's QEMU or the "
                    + "destination's agent does not answer, for SECONDS; the report names who stalled "
                    + "(default 10). Requests that start or stop the destination's QEMU get six times as long."})
    Long stallTimeout;

    @Option(names = "--detach", description = {"Start the migration and return at once with its id, instead of "
            + "following it; 'ferry migration show ID' and 'ferry migration cancel ID' take it from there."})
    boolean detach;

    MigrateCommand(CliEnv env) {
        this.options = new ClientOptions(env.variables());
    }

    @Override
    public Integer call() throws InterruptedException {
        AgentClient client = options.client();
        MigrateRequest request = new MigrateRequest(vm, to, dryRun, downtimeMs, bandwidthMiB,
                noAutoConverge ? Boolean.FALSE : null, convergeTimeout, null, diskBandwidthMiB, stallTimeout);
        AgentClient.Reply started = client.post("/v1/migrations", request);
        MigrationStatus status = started.as(MigrationStatus.class);
        if (detach) {
            if (options.json) {
                out().println(started.body());
            } else {
                out().println("migration " + status.id() + " of vm '" + status.vm() + "' started; follow it with"
                        + " 'ferry migration show " + status.id() + "', cancel it with 'ferry migration cancel "
                        + status.id() + "'");
            }
            out().flush();
            return 0;
        }
        try (CancelOnInterrupt guard = CancelOnInterrupt.install(client, status.id(), spec.commandLine().getErr())) {
            status = MigrationFollower.untilEnded(client, status, out(), MigrationFollower.Progress.forOutput(options.json));
            int code = MigrationFollower.finish(status, options.json, out(), client, spec.commandLine().getErr());
            if (guard.cancelAsked() && status.report() != null && status.report().result() == Result.ROLLED_BACK) {
                code = CancelOnInterrupt.INTERRUPTED;
            }
            guard.finished(code);
            return code;
        }
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
