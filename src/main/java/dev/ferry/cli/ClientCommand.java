package dev.ferry.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that makes one call to an agent and prints the answer, as a table or as JSON. */
abstract class ClientCommand implements Callable<Integer> {
    @Mixin
    final ClientOptions options;

    @Spec
    CommandSpec spec;

    ClientCommand(CliEnv env) {
        this.options = new ClientOptions(env.variables());
    }

    @Override
    public final Integer call() {
        AgentClient.Reply reply = call(options.client());
        if (options.json) {
            if (!reply.body().isBlank()) {
                out().println(reply.body());
            }
        } else {
            print(reply);
        }
        out().flush();
        return 0;
    }

    /** Makes the call; errors surface as {@link CliFailure}. */
    abstract AgentClient.Reply call(AgentClient client);

    /** Prints the answer for people. */
    abstract void print(AgentClient.Reply reply);

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    static String path(String name) {
        return java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }
}
