package dev.ferry.cli;

import dev.ferry.agent.Agent;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ferry agent repair --config FILE}: makes a damaged or missing state database usable again. */
@Command(name = "repair", mixinStandardHelpOptions = true,
        description = {"Make this host's state database usable again, with the agent stopped. Touches no VM.",
                "A damaged database (one the agent refused to start on) is kept beside it as ferry.db.damaged-TIME"
                        + " and replaced by the newest sound backup (ferry.db.backup-1, then -2; the agent writes them"
                        + " at start and whenever a VM is defined or removed or a migration ends); a missing one is"
                        + " replaced the same way, or started empty when no backup is sound.",
                "Then every VM whose run directory names a live QEMU is recorded as running (from the spec in its"
                        + " run directory), so the next agent reattaches to it, and every migration the restored"
                        + " database shows unfinished is recorded as failed, naming the peer to check.",
                "A sound database is kept as it is; the running VMs are still checked."})
final class AgentRepairCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The agent's YAML configuration.")
    Path config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<String> lines;
        try {
            lines = Agent.repair(AgentCommand.load(config), Clock.systemUTC());
        } catch (CliFailure e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CliFailure(CliFailure.AGENT_ERROR, "repair failed: " + e.getMessage(), e);
        }
        lines.forEach(spec.commandLine().getOut()::println);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
