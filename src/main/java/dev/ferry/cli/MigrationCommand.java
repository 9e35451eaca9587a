package dev.ferry.cli;

import dev.ferry.agent.api.TuneRequest;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.migration.ToolOutput;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry migration list|show|set|cancel}: the migrations an agent ran or runs. */
@Command(name = "migration", mixinStandardHelpOptions = true,
        description = "List, inspect, tune and cancel the migrations and saves an agent has run or is running.",
        subcommands = {MigrationCommand.ListMigrations.class, MigrationCommand.Show.class, MigrationCommand.Tune.class,
                MigrationCommand.Cancel.class})
final class MigrationCommand extends CommandGroup {

    /** The history as the API sends it. */
    record History(List<MigrationStatus> migrations) {}

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List migrations, newest first, with their results (running ones show their phase).")
    static final class ListMigrations extends ClientCommand {
        ListMigrations(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            return client.get("/v1/migrations");
        }

        @Override
        void print(AgentClient.Reply reply) {
            Table t = new Table("ID", "VM", "ROLE", "PEER", "MODE", "RESULT", "STARTED", "DOWNTIME");
            for (MigrationStatus m : reply.as(History.class).migrations()) {
                String downtime = m.report() == null || m.report().downtimeMs() == null ? "" : m.report().downtimeMs() + " ms";
                t.row(m.id(), m.vm(), m.role(), m.peer(), m.mode(), m.running() ? m.phase() + "..." : m.phase(),
                        m.startedAt(), downtime);
            }
            t.print(out());
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show one migration: its progress while it runs, its full report once it ended.")
    static final class Show extends ClientCommand {
        @Parameters(paramLabel = "ID", description = "The migration's id (see 'ferry migration list').")
        String id;

        @Option(names = "--tool-output", description = "Instead of the report, print what each call of an external"
                + " tool wrote: how it ended and the kept tail of its stdout and stderr (64 KiB of each).")
        boolean toolOutput;

        Show(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            return client.get("/v1/migrations/" + path(id) + (toolOutput ? "/tool-output" : ""));
        }

        @Override
        void print(AgentClient.Reply reply) {
            if (toolOutput) {
                ReportPrinter.printToolOutput(reply.as(ToolOutput.class), out());
                return;
            }
            MigrationStatus m = reply.as(MigrationStatus.class);
            if (m.report() != null) {
                ReportPrinter.print(m.report(), out());
            } else {
                out().println("migration " + m.id() + " of vm '" + m.vm() + "' (" + m.role() + ", peer " + m.peer() + "): "
                        + (m.running() ? ReportPrinter.progressLine(m) : m.phase()));
            }
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Change a running migration's RAM bandwidth cap or QEMU's downtime limit, e.g. to let a "
                    + "busy guest converge. Possible until the RAM copy ends."})
    static final class Tune extends ClientCommand {
        @Parameters(paramLabel = "ID", description = "The migration's id.")
        String id;

        @Option(names = "--bandwidth", paramLabel = "MIB", description = "Cap the RAM copy at MIB MiB/s; 0 lifts the cap.")
        Long bandwidthMiB;

        @Option(names = "--downtime-ms", paramLabel = "N", description = "The downtime QEMU may take for the final copy.")
        Long downtimeMs;

        Tune(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            if (bandwidthMiB == null && downtimeMs == null) {
                throw new CliFailure(CliFailure.USAGE, "ferry migration set: give --bandwidth MIB, --downtime-ms N or both");
            }
            return client.post("/v1/migrations/" + path(id) + "/tune",
                    new TuneRequest(bandwidthMiB, downtimeMs));
        }

        @Override
        void print(AgentClient.Reply reply) {
            MigrationStatus m = reply.as(MigrationStatus.class);
            out().println("migration " + m.id() + " of vm '" + m.vm() + "' (" + m.phase() + "):"
                    + (bandwidthMiB == null ? "" : " bandwidth " + (bandwidthMiB == 0 ? "uncapped" : bandwidthMiB + " MiB/s"))
                    + (downtimeMs == null ? "" : " downtime limit " + downtimeMs + " ms"));
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = {"Cancel a running migration. It rolls back as a failure would: devices recover, the "
                    + "destination is torn down, and the VM stays on the source, running if it was.",
                    "Past switchover the VM belongs to the destination and a cancel is refused."})
    static final class Cancel extends ClientCommand {
        @Parameters(paramLabel = "ID", description = "The migration's id.")
        String id;

        Cancel(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            return client.post("/v1/migrations/" + path(id) + "/cancel", null);
        }

        @Override
        void print(AgentClient.Reply reply) {
            MigrationStatus m = reply.as(MigrationStatus.class);
            out().println("migration " + m.id() + " of vm '" + m.vm() + "': cancel requested during " + m.phase()
                    + "; it rolls back at the next phase boundary ('ferry migration show " + m.id() + "' for the report)");
        }
    }
}
