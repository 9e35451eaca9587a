package dev.ferry.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options every command that talks to an agent takes. */
final class ClientOptions {
    static final String DEFAULT_AGENT = "http://127.0.0.1:7780";
    static final String AGENT_ENV = "FERRY_AGENT";

    private final Map<String, String> env;

    @Option(names = "--agent", paramLabel = "URL",
            description = "The agent to talk to (default: $" + AGENT_ENV + ", else " + DEFAULT_AGENT + ").")
    String agent;

    @Option(names = "--json", description = "Print the agent's JSON answer instead of a table.")
    boolean json;

    @Option(names = "--debug", description = "Show stack traces of failures.")
    boolean debug;

    ClientOptions(Map<String, String> env) {
        this.env = env;
    }

    URI agentUrl() {
        String raw = agent != null ? agent : env.getOrDefault(AGENT_ENV, DEFAULT_AGENT);
        String source = agent != null ? "--agent" : env.containsKey(AGENT_ENV) ? "$" + AGENT_ENV : "the default";
        try {
            URI u = new URI(raw.strip());
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new URISyntaxException(raw, "not an http(s) URL with a host");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new CliFailure(CliFailure.USAGE, source + ": '" + raw + "' is not an agent URL; write e.g. " + DEFAULT_AGENT, e);
        }
    }

    AgentClient client() {
        return new AgentClient(agentUrl());
    }
}
