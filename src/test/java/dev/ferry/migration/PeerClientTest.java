package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.lab.FakeClock;
import dev.ferry.migration.PeerProtocol.Ownership;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PeerClientTest {
    private final ObjectMapper json = new ObjectMapper().findAndRegisterModules();
    private final ExecutorService io = Executors.newCachedThreadPool();
    private final FakeClock clock = new FakeClock();
    private final List<Duration> pauses = new CopyOnWriteArrayList<>();
    /** What happens at each pause; by default time passes. */
    private volatile Runnable atPause = () -> {};
    private FakePeer peer;

    private Peers peers(Map<String, URI> known) {
        return new Peers(known, json, clock, io, d -> {
            pauses.add(d);
            clock.advance(d);
            atPause.run();
        });
    }

    private static PeerProtocol.Request request(String id) {
        return new PeerProtocol.Request(PeerProtocol.VERSION, id, "src", "name: web1\n", "live", Map.of(), Map.of(), true);
    }

    @AfterEach
    void stop() {
        if (peer != null) {
            peer.close();
        }
        io.shutdownNow();
    }

    /** A port nothing listens on: the server that had it is gone. */
    private static int deadPort() throws Exception {
        FakePeer gone = new FakePeer();
        int port = gone.port();
        gone.close();
        return port;
    }

    @Test
    void calls_againstAnAnsweringPeer_postTheStepsForTheMigrationAndParseTheReplies() throws Exception {
        peer = new FakePeer();
        peer.answer("check", 200, "{\"blockers\": [{\"side\": \"destination\", \"device\": null,"
                + " \"reason\": \"bridge br9 is missing\"}]}");
        PeerClient client = peers(Map.of("dst", peer.url())).client("dst", request("m1"), Duration.ofMinutes(5));

        assertThat(client.check()).extracting(MigrationReport.Blocker::reason).containsExactly("bridge br9 is missing");
        assertThat(client.prepare().uri()).isEqualTo("tcp:127.0.0.1:4444");
        assertThat(client.switchover().resumed()).isTrue();
        assertThat(client.ownership()).isEqualTo(Ownership.OWNED);
        assertThat(peer.calls).extracting(FakePeer.Call::migrationId).containsOnly("m1");
        assertThat(peer.steps()).containsExactly("check", "prepare", "switchover", "ownership");
        assertThat(pauses).isEmpty();
    }

    @Test
    void switchover_answeredNotTaken_throwsNotTakenException() throws Exception {
        peer = new FakePeer();
        peer.refuse("switchover", 409, "not_taken", "the incoming migration failed");
        PeerClient client = peers(Map.of("dst", peer.url())).client("dst", request("m1"), Duration.ofMinutes(5));

        assertThatThrownBy(client::switchover)
                .isInstanceOf(Destination.NotTakenException.class)
                .hasMessage("agent 'dst' refused switchover: the incoming migration failed");
        assertThat(peer.steps()).containsExactly("switchover");
    }

    @Test
    void prepare_answeredWithAnotherError_throwsAPlainMigrationExceptionWithoutRetrying() throws Exception {
        peer = new FakePeer();
        peer.refuse("prepare", 500, "failed", "swtpm failed to start");
        PeerClient client = peers(Map.of("dst", peer.url())).client("dst", request("m1"), Duration.ofMinutes(5));

        assertThatThrownBy(client::prepare)
                .isExactlyInstanceOf(MigrationException.class)
                .hasMessage("agent 'dst' refused prepare: swtpm failed to start");
        assertThat(peer.steps()).containsExactly("prepare");
    }

    @Test
    void switchover_whileThePeerIsUnreachable_isRetriedUntilItAnswers() throws Exception {
        int port = deadPort();
        PeerClient client = peers(Map.of("dst", URI.create("http://127.0.0.1:" + port)))
                .client("dst", request("m1"), Duration.ofMinutes(5));
        atPause = () -> {
            if (pauses.size() == 3) {
                try {
                    peer = new FakePeer(port);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };

        PeerProtocol.Switchover sw = client.switchover();

        assertThat(sw.resumed()).isTrue();
        assertThat(pauses).hasSize(3).containsOnly(Duration.ofSeconds(1));
        assertThat(peer.steps()).containsExactly("switchover");
    }

    @Test
    void switchover_unreachablePastItsPatience_givesUpSayingItCannotReachThePeer() throws Exception {
        PeerClient client = peers(Map.of("dst", URI.create("http://127.0.0.1:" + deadPort())))
                .client("dst", request("m1"), Duration.ofSeconds(10));

        assertThatThrownBy(client::switchover)
                .isInstanceOf(PeerClient.Unreachable.class)
                .hasMessageContaining("cannot reach agent 'dst'")
                .hasMessageContaining("for switchover");
        assertThat(pauses).hasSize(11);
    }

    @Test
    void abort_unreachable_isRetriedForAMinuteThenGivesUp() throws Exception {
        PeerClient client = peers(Map.of("dst", URI.create("http://127.0.0.1:" + deadPort())))
                .client("dst", request("m1"), Duration.ZERO);

        assertThatThrownBy(client::abort)
                .isInstanceOf(PeerClient.Unreachable.class).hasMessageContaining("for abort");
        assertThat(pauses).hasSize(61);
    }

    @Test
    void prepare_unreachable_failsAtOnce() throws Exception {
        PeerClient client = peers(Map.of("dst", URI.create("http://127.0.0.1:" + deadPort())))
                .client("dst", request("m1"), Duration.ofMinutes(5));

        assertThatThrownBy(client::prepare).isInstanceOf(PeerClient.Unreachable.class);
        assertThat(pauses).isEmpty();
    }

    @Test
    void client_ofOnePeer_sharesOneConnectionAcrossCallsAndMigrations() throws Exception {
        peer = new FakePeer();
        Peers peers = peers(Map.of("dst", peer.url()));

        peers.client("dst", request("m1"), Duration.ZERO).check();
        peers.client("dst", request("m1"), Duration.ZERO).prepare();
        peers.client("dst", request("m2"), Duration.ZERO).check();
        peers(Map.of("dst", peer.url())).client("dst", request("m3"), Duration.ZERO).check();

        List<Integer> ports = peer.calls.stream().map(FakePeer.Call::clientPort).toList();
        assertThat(ports.subList(0, 3)).containsOnly(ports.get(0));
        assertThat(ports.get(3)).as("another Peers has a client of its own").isNotEqualTo(ports.get(0));
    }

    @Test
    void client_byAgentUrl_needsNoName() throws Exception {
        peer = new FakePeer();

        PeerClient client = peers(Map.of()).client(peer.url().toString(), request("m1"), Duration.ZERO);

        assertThat(client.check()).isEmpty();
    }

    @Test
    void resolve_unknownName_isRefusedNamingTheKnownPeers() {
        Peers peers = peers(Map.of("node2", URI.create("http://10.0.0.2:7070")));

        assertThatThrownBy(() -> peers.resolve("node9"))
                .isInstanceOfSatisfying(RequestException.class,
                        e -> assertThat(e.kind()).isEqualTo(RequestException.Kind.INVALID))
                .hasMessageContaining("unknown host 'node9'")
                .hasMessageContaining("[node2]");
        assertThat(peers.resolve("node2")).isEqualTo(URI.create("http://10.0.0.2:7070"));
    }

    @Test
    void check_peerTakesTheRequestButDoesNotAnswer_failsAfterTheStallTimeoutNamingTheAgent() throws Exception {
        peer = new FakePeer();
        peer.answer("check", 200, "{\"blockers\": []}");
        peer.hold("check");
        MigrationParams params = new MigrationParams(Duration.ofMillis(300), 0, true, Duration.ofSeconds(60),
                Duration.ofSeconds(60), 0, Duration.ofSeconds(1));
        PeerClient client = peers(Map.of("dst", peer.url())).client("dst", request("m1"), Duration.ZERO, params);

        try {
            assertThatThrownBy(client::check)
                    .isInstanceOf(PeerClient.Unreachable.class)
                    .hasMessageContaining("agent 'dst' at " + peer.url().resolve("/"))
                    .hasMessageContaining("did not answer check within 1 s: it is stopped or hung, or the link to it is");
        } finally {
            peer.release();
        }
    }
}
