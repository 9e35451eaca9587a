package dev.ferry.cli;

import dev.ferry.agent.api.SaveRequest;
import dev.ferry.migration.MigrationStatus;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ferry save VM FILE}. */
@Command(name = "save", mixinStandardHelpOptions = true,
        description = {"Save a running VM (its spec, RAM and device state, vTPM included) into a file on the "
                + "agent's host, through the same device steps as a migration (mode save). The VM ends stopped.",
                "The file appears only when the save completed; a failed save leaves the VM running."})
final class SaveCommand implements Callable<Integer> {
    @Mixin
    final ClientOptions options;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VM", description = "The VM to save.")
    String vm;

    @Parameters(index = "1", paramLabel = "FILE", description = "Where to save it, on the agent's host: a new file in one of the agent's saves"
            + " directories (<dataDir>/saves, and those its configuration lists under saves).")
    Path file;

    SaveCommand(CliEnv env) {
        this.options = new ClientOptions(env.variables());
    }

    @Override
    public Integer call() throws InterruptedException {
        AgentClient client = options.client();
        MigrationStatus status = client.post("/v1/vms/" + ClientCommand.path(vm) + "/save",
                new SaveRequest(file.toAbsolutePath().normalize().toString())).as(MigrationStatus.class);
        status = MigrationFollower.untilEnded(client, status, spec.commandLine().getOut(),
                MigrationFollower.Progress.forOutput(options.json));
        return MigrationFollower.finish(status, options.json, spec.commandLine().getOut(), client,
                spec.commandLine().getErr());
    }
}
