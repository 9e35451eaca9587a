package dev.ferry.cli;

import dev.ferry.agent.HostInfo;
import picocli.CommandLine.Command;

/** {@code ferry host ...}: what an agent's host is and has. */
@Command(name = "host", mixinStandardHelpOptions = true, description = "Inspect an agent's host.",
        subcommands = HostCommand.Info.class)
final class HostCommand extends CommandGroup {

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Show the host's name, Ferry, QEMU and swtpm versions, and the CPUs and memory left for VMs.")
    static final class Info extends ClientCommand {
        Info(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            return client.get("/v1/host");
        }

        @Override
        void print(AgentClient.Reply reply) {
            HostInfo h = reply.as(HostInfo.class);
            new Table("FIELD", "VALUE")
                    .row("host", h.name())
                    .row("ferry", h.ferryVersion())
                    .row("qemu", h.qemuVersion())
                    .row("swtpm", h.swtpmVersion())
                    .row("cpus", h.cpus() + " (" + h.vcpusFree() + " vCPUs free)")
                    .row("memory", h.memoryTotalMiB() + " MiB (" + h.memoryAvailableMiB() + " MiB available, "
                            + h.memoryFreeMiB() + " MiB not given to VMs)")
                    .row("vms", h.vms() + " (" + h.runningVms() + " running)")
                    .print(out());
        }
    }
}
