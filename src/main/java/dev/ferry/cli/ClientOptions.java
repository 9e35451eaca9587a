package dev.ferry.cli;

import dev.ferry.pki.PkiException;
import dev.ferry.pki.TlsContexts;
import dev.ferry.pki.TlsDir;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options every command that talks to an agent takes. */
final class ClientOptions {
    static final String DEFAULT_AGENT = "http://127.0.0.1:7780";
    static final String AGENT_ENV = "FERRY_AGENT";
    static final String CERT_ENV = "FERRY_CERT";

    private final Map<String, String> env;

    @Option(names = "--agent", paramLabel = "URL",
            description = "The agent to talk to (default: $" + AGENT_ENV + ", else " + DEFAULT_AGENT + ").")
    String agent;

    @Option(names = "--cert", paramLabel = "DIR",
            description = "For https:// agents: the operator's certificate directory from 'ferry pki client' (ca-cert.pem,"
                    + " client-cert.pem, client-key.pem); default: $" + CERT_ENV + ".")
    Path cert;

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
        URI url = agentUrl();
        Path dir = cert != null ? cert : env.containsKey(CERT_ENV) ? Path.of(env.get(CERT_ENV)) : null;
        String source = cert != null ? "--cert" : "$" + CERT_ENV;
        if (!"https".equals(url.getScheme())) {
            if (dir != null) {
                throw new CliFailure(CliFailure.USAGE, source + " " + dir + " is for https:// agents, and " + url
                        + " is plain HTTP; write the agent's https:// URL, or leave out the certificate");
            }
            return new AgentClient(url);
        }
        if (dir == null) {
            throw new CliFailure(CliFailure.USAGE, url + " serves HTTPS and requires a client certificate; pass --cert DIR"
                    + " or set $" + CERT_ENV + " to a directory from 'ferry pki client'");
        }
        try {
            return new AgentClient(url, TlsContexts.client(new TlsDir(dir)));
        } catch (PkiException e) {
            throw new CliFailure(CliFailure.USAGE, source + ": " + e.getMessage(), e);
        }
    }
}
