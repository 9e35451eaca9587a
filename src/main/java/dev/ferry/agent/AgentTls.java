package dev.ferry.agent;

import dev.ferry.agent.api.ApiTls;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.pki.PkiException;
import dev.ferry.pki.PkiValidator;
import dev.ferry.pki.TlsContexts;
import dev.ferry.pki.TlsDir;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's TLS, made once at start from the host's certificate directory: the API's server side
 * and the client side its peer calls use. A directory {@code ferry pki validate} finds errors in is
 * refused before anything starts; its warnings (a certificate about to expire) are logged.
 *
 * @param api   what the API serves with
 * @param peers what the agent calls its peers with
 */
record AgentTls(ApiTls api, SSLContext peers) {
    private static final Logger log = LoggerFactory.getLogger(AgentTls.class);

    /** The agent's TLS, or null when it serves plain HTTP (then warned about when it is reachable from elsewhere). */
    static AgentTls load(AgentConfig config) {
        if (config.tls().isEmpty()) {
            if (config.insecure()) {
                log.warn("agent '{}' serves plain HTTP on {} (insecure: true): anyone who reaches the port can define"
                        + " VMs, read and write any file the agent may through them, and start migrations; set tls: {dir:"
                        + " DIR} instead (docs/security.md)", config.host(), config.listen());
            }
            return null;
        }
        Path dir = config.tls().get();
        List<PkiValidator.Problem> problems = new PkiValidator(Clock.systemUTC()).validate(dir);
        problems.stream().filter(p -> p.severity() == PkiValidator.Severity.WARNING)
                .forEach(p -> log.warn("tls.dir: {}", p));
        List<PkiValidator.Problem> errors = problems.stream()
                .filter(p -> p.severity() == PkiValidator.Severity.ERROR).toList();
        if (!errors.isEmpty()) {
            throw new AgentStartException("tls.dir " + dir + " cannot be used: " + errors.stream().map(Object::toString)
                    .collect(Collectors.joining("; ")));
        }
        try {
            TlsDir tls = new TlsDir(dir);
            return new AgentTls(new ApiTls(TlsContexts.server(tls), config.peers().keySet(),
                    TlsContexts.clusterTrust(tls)), TlsContexts.client(tls));
        } catch (PkiException e) {
            throw new AgentStartException("tls.dir " + dir + ": " + e.getMessage(), e);
        }
    }
}
