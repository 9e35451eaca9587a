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
                "Exit code 0 when the VM runs on the destination (or a dry run found no blocker), 1 otherwise."})
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

    MigrateCommand(CliEnv env) {
        this.options = new ClientOptions(env.variables());
    }

    @Override
    public Integer call() throws InterruptedException {
        AgentClient client = options.client();
        MigrateRequest request = new MigrateRequest(vm, to, dryRun, downtimeMs, bandwidthMiB,
                noAutoConverge ? Boolean.FALSE : null, convergeTimeout, null, diskBandwidthMiB, stallTimeout);
        MigrationStatus status = client.post("/v1/migrations", request).as(MigrationStatus.class);
        status = Follow.untilEnded(client, status, out(), !options.json && System.console() != null);
        return Follow.finish(status, options.json, out(), client, spec.commandLine().getErr());
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Following a running migration and printing its end; shared with save. */
    static final class Follow {
        private Follow() {}

        static MigrationStatus untilEnded(AgentClient client, MigrationStatus status, PrintWriter out, boolean bar)
                throws InterruptedException {
            String last = "";
            while (status.running()) {
                if (bar) {
                    String line = ReportPrinter.progressLine(status);
                    out.print("\r" + line + " ".repeat(Math.max(0, last.length() - line.length())));
                    out.flush();
                    last = line;
                }
                Thread.sleep(200);
                status = client.get("/v1/migrations/" + status.id()).as(MigrationStatus.class);
            }
            if (bar && !last.isEmpty()) {
                out.println();
            }
            return status;
        }

        static int finish(MigrationStatus status, boolean json, PrintWriter out, AgentClient client, PrintWriter err) {
            if (status.report() == null) {
                err.println("ferry: migration " + status.id() + " ended without a report; see 'ferry migration show "
                        + status.id() + "' and the agent's log");
                err.flush();
                return CliFailure.AGENT_ERROR;
            }
            if (json) {
                out.println(toJson(status, client));
            } else {
                ReportPrinter.print(status.report(), out);
            }
            out.flush();
            Result result = status.report().result();
            return result == Result.COMPLETED || result == Result.CHECKED ? 0 : CliFailure.AGENT_ERROR;
        }

        private static String toJson(MigrationStatus status, AgentClient client) {
            try {
                return client.json().writeValueAsString(status.report());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("Invalid report", e);
            }
        }
    }
}
