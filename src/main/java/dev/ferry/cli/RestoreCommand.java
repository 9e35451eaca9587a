package dev.ferry.cli;

import dev.ferry.agent.VmInfo;
import dev.ferry.agent.api.RestoreRequest;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry restore FILE [--host URL]}. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Bring back a VM that 'ferry save' wrote, with its devices and vTPM state; it ends running.")
final class RestoreCommand extends ClientCommand {
    @Parameters(paramLabel = "FILE", description = "The save file, on the agent's host, in one of its saves directories.")
    Path file;

    @Option(names = "--host", paramLabel = "URL",
            description = "The agent of the host to restore on (the same as --agent).")
    String host;

    RestoreCommand(CliEnv env) {
        super(env);
    }

    @Override
    AgentClient.Reply call(AgentClient client) {
        if (host != null) {
            options.agent = host;
            client = options.client();
        }
        return client.post("/v1/restore", new RestoreRequest(file.toAbsolutePath().normalize().toString()));
    }

    @Override
    void print(AgentClient.Reply reply) {
        VmInfo vm = reply.as(VmInfo.class);
        out().println("vm '" + vm.name() + "' restored from " + file + ", now " + vm.state());
    }
}
