package dev.ferry.agent.api;

import java.util.Objects;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/**
 * How the API serves HTTPS: the host's TLS context (its certificate, trusting the cluster CA alone)
 * and the hosts whose certificates may call the peer API.
 *
 * @param context the server side, from the host's certificate directory
 * @param peers   host names (certificate CNs) that are this agent's peers
 * @param cluster trusts the cluster CA alone: each request's client certificate is judged with it
 */
public record ApiTls(SSLContext context, Set<String> peers, X509TrustManager cluster) {
    public ApiTls {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(cluster, "cluster");
        peers = Set.copyOf(peers);
    }
}
