package dev.ferry.cli;

import dev.ferry.agent.VmInfo;
import dev.ferry.agent.api.ApiJson;
import dev.ferry.agent.api.DefineVmRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ferry vm ...}: define VMs on an agent's host and drive their lifecycle. */
@Command(name = "vm", mixinStandardHelpOptions = true,
        description = "Define, start, stop and inspect VMs on an agent's host.",
        subcommands = {VmCommand.Define.class, VmCommand.ListVms.class, VmCommand.Show.class,
                VmCommand.Start.class, VmCommand.Pause.class, VmCommand.Resume.class,
                VmCommand.Stop.class, VmCommand.Destroy.class, VmCommand.Undefine.class})
final class VmCommand extends CommandGroup {

    @Command(name = "define", mixinStandardHelpOptions = true,
            description = {"Define a VM from a YAML spec file.",
                    "The spec is sent as written, with the file's directory: relative paths in it "
                            + "resolve against that directory on the agent's host."})
    static final class Define extends ClientCommand {
        @Parameters(paramLabel = "SPEC_FILE", description = "The VM's spec (YAML).")
        Path file;

        Define(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            String yaml;
            try {
                yaml = Files.readString(file);
            } catch (NoSuchFileException e) {
                throw new CliFailure(CliFailure.USAGE, "cannot read spec file '" + file + "': no such file", e);
            } catch (IOException e) {
                throw new CliFailure(CliFailure.USAGE, "cannot read spec file '" + file + "': " + e.getMessage(), e);
            }
            Path baseDir = file.toAbsolutePath().normalize().getParent();
            return client.post("/v1/vms", new DefineVmRequest(yaml, baseDir.toString()));
        }

        @Override
        void print(AgentClient.Reply reply) {
            VmInfo vm = reply.as(VmInfo.class);
            out().println("vm '" + vm.name() + "' defined (uuid " + vm.uuid() + ")");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the VMs the agent knows, with their states.")
    static final class ListVms extends ClientCommand {
        ListVms(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            return client.get("/v1/vms");
        }

        @Override
        void print(AgentClient.Reply reply) {
            Table t = new Table("NAME", "STATE", "PID", "JOB", "UPDATED", "UUID");
            for (VmInfo vm : reply.as(ApiJson.VmList.class).vms()) {
                t.row(vm.name(), vm.state(), vm.pid(), vm.job(), vm.updatedAt().truncatedTo(ChronoUnit.SECONDS), vm.uuid());
            }
            t.print(out());
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one VM: state, process, run directory and spec.")
    static final class Show extends ClientCommand {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;

        Show(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            return client.get("/v1/vms/" + path(name));
        }

        @Override
        void print(AgentClient.Reply reply) {
            VmInfo vm = reply.as(VmInfo.class);
            Table t = new Table("FIELD", "VALUE")
                    .row("name", vm.name())
                    .row("uuid", vm.uuid())
                    .row("state", vm.state())
                    .row("pid", vm.pid())
                    .row("run dir", vm.runDir())
                    .row("job", vm.job())
                    .row("updated", vm.updatedAt().truncatedTo(ChronoUnit.SECONDS));
            t.print(out());
            out().println("spec:");
            vm.spec().lines().forEach(l -> out().println("  " + l));
        }
    }

    /** A lifecycle call: {@code POST /v1/vms/NAME/ACTION}, answered with the VM's new state. */
    abstract static class Action extends ClientCommand {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;

        private final String action;

        Action(CliEnv env, String action) {
            super(env);
            this.action = action;
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            return client.post("/v1/vms/" + path(name) + "/" + action, null);
        }

        @Override
        void print(AgentClient.Reply reply) {
            VmInfo vm = reply.as(VmInfo.class);
            out().println("vm '" + vm.name() + "' is " + vm.state());
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a defined or stopped VM.")
    static final class Start extends Action {
        Start(CliEnv env) {
            super(env, "start");
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a running VM's vCPUs.")
    static final class Pause extends Action {
        Pause(CliEnv env) {
            super(env, "pause");
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused VM.")
    static final class Resume extends Action {
        Resume(CliEnv env) {
            super(env, "resume");
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Ask the guest to power off; QEMU is told to quit if it has not after a grace period.")
    static final class Stop extends Action {
        Stop(CliEnv env) {
            super(env, "stop");
        }
    }

    @Command(name = "destroy", mixinStandardHelpOptions = true,
            description = "End the VM's QEMU at once, without asking the guest; cleans up after a crashed VM.")
    static final class Destroy extends Action {
        Destroy(CliEnv env) {
            super(env, "destroy");
        }
    }

    @Command(name = "undefine", mixinStandardHelpOptions = true,
            description = "Forget a VM that does not run (stop or destroy it first).")
    static final class Undefine extends ClientCommand {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;

        Undefine(CliEnv env) {
            super(env);
        }

        @Override
        AgentClient.Reply call(AgentClient client) {
            return client.delete("/v1/vms/" + path(name));
        }

        @Override
        void print(AgentClient.Reply reply) {
            out().println("vm '" + name + "' undefined");
        }
    }
}
