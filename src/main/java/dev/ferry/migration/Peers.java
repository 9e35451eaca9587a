package dev.ferry.migration;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import javax.net.ssl.SSLContext;

/**
 * The other agents this host migrates to and hears from: names resolved through the agent's
 * {@code peers}, one HTTP client per peer (shared by every call and retry to it), running on the
 * executor the owner of this object shuts down.
 */
public final class Peers {
    private final Map<String, URI> known;
    private final ObjectMapper json;
    private final Clock clock;
    private final ExecutorService executor;
    private final PeerClient.Pause pause;
    private final Map<URI, HttpClient> clients = new ConcurrentHashMap<>();
    private final SSLContext tls;

    /** @param known peers by host name, from the agent's config */
    public Peers(Map<String, URI> known, ObjectMapper json, Clock clock, ExecutorService executor) {
        this(known, json, clock, executor, PeerClient.Pause.SLEEP, null);
    }

    /**
     * @param tls peers are called over HTTPS presenting this host's certificate, and each peer's
     *            certificate is checked against the cluster CA and the host in its URL; null leaves the
     *            JDK's defaults (peers on plain HTTP)
     */
    public Peers(Map<String, URI> known, ObjectMapper json, Clock clock, ExecutorService executor, SSLContext tls) {
        this(known, json, clock, executor, PeerClient.Pause.SLEEP, tls);
    }

    /** @param pause how clients wait between attempts at an unreachable peer */
    Peers(Map<String, URI> known, ObjectMapper json, Clock clock, ExecutorService executor, PeerClient.Pause pause) {
        this(known, json, clock, executor, pause, null);
    }

    private Peers(Map<String, URI> known, ObjectMapper json, Clock clock, ExecutorService executor,
                  PeerClient.Pause pause, SSLContext tls) {
        this.tls = tls;
        this.known = Map.copyOf(known);
        this.json = json;
        this.clock = clock;
        this.executor = executor;
        this.pause = pause;
    }

    /** The agent URL of {@code to}: a known peer's name, or an agent URL given as is. */
    public URI resolve(String to) {
        URI url = known.get(to);
        if (url != null) {
            return url;
        }
        if (to.startsWith("http://") || to.startsWith("https://")) {
            return URI.create(to);
        }
        throw new RequestException(RequestException.Kind.INVALID, "to: unknown host '" + to + "'; known peers are "
                + known.keySet() + " (add it under peers in the agent's config, or give its agent URL)");
    }

    /** The destination of one migration, as a client of its agent, with the default answer timeouts. */
    PeerClient client(String peer, PeerProtocol.Request request, Duration switchoverPatience) {
        return client(peer, request, switchoverPatience, MigrationParams.defaults());
    }

    /**
     * The destination of one migration, as a client of its agent: each answer is awaited for the
     * migration's stall timeout, or its {@link MigrationParams#peerWorkTimeout()} for requests that
     * start or stop the destination's QEMU.
     */
    PeerClient client(String peer, PeerProtocol.Request request, Duration switchoverPatience, MigrationParams params) {
        URI url = resolve(peer);
        HttpClient http = clients.computeIfAbsent(url, u -> {
            HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).executor(executor);
            return (tls == null ? b : b.sslContext(tls)).build();
        });
        return new PeerClient(peer, url, request, json, http, clock, switchoverPatience, pause,
                new PeerClient.Timeouts(params.stallTimeout(), params.peerWorkTimeout()));
    }
}
