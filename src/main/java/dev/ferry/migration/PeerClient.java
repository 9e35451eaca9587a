package dev.ferry.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.PeerProtocol.CheckReply;
import dev.ferry.migration.PeerProtocol.Ownership;
import dev.ferry.migration.PeerProtocol.OwnershipReply;
import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination agent of one migration, seen from the source: each {@link Destination} call
 * is one request to {@code /v1/peer/migrations/{id}/...}. The switchover is retried while the
 * peer cannot be reached, because guessing its answer could leave the VM running twice or nowhere.
 */
final class PeerClient implements Destination {
    private static final Logger log = LoggerFactory.getLogger(PeerClient.class);
    private static final Duration ABORT_PATIENCE = Duration.ofSeconds(60);

    private final String peerName;
    private final URI base;
    private final PeerProtocol.Request request;
    private final ObjectMapper json;
    private final HttpClient http;
    private final Clock clock;
    private final Duration switchoverPatience;
    private final Pause pause;
    private final Timeouts timeouts;

    /**
     * How long each answer is awaited: {@code answer} for check and ownership, {@code work} for
     * prepare, switchover and abort, which start or stop the destination's QEMU.
     */
    record Timeouts(Duration answer, Duration work) {}

    /** How the client waits between attempts; a test's pause advances its clock instead of sleeping. */
    interface Pause {
        Pause SLEEP = d -> Thread.sleep(d.toMillis());

        void pause(Duration d) throws InterruptedException;
    }

    PeerClient(String peerName, URI agentUrl, PeerProtocol.Request request, ObjectMapper json, HttpClient http,
               Clock clock, Duration switchoverPatience, Pause pause, Timeouts timeouts) {
        this.peerName = peerName;
        this.timeouts = timeouts;
        this.pause = pause;
        this.base = agentUrl.resolve("/v1/peer/migrations/" + request.migrationId() + "/");
        this.request = request;
        this.json = json;
        this.clock = clock;
        this.switchoverPatience = switchoverPatience;
        this.http = http;
    }

    @Override
    public List<Blocker> check() throws MigrationException {
        return json.convertValue(call("check", timeouts.answer()), CheckReply.class).blockers();
    }

    @Override
    public Prepared prepare() throws MigrationException {
        return json.convertValue(call("prepare", timeouts.work()), Prepared.class);
    }

    @Override
    public Switchover switchover() throws MigrationException {
        return json.convertValue(callPatiently("switchover", switchoverPatience), Switchover.class);
    }

    /** Retried while the peer cannot be reached: an abort that never arrives would leave its incoming VM behind. */
    @Override
    public void abort() throws MigrationException {
        callPatiently("abort", ABORT_PATIENCE);
    }

    /** {@link #call}, asked again every second while the peer does not answer at all, for up to {@code patience}. */
    private JsonNode callPatiently(String step, Duration patience) throws MigrationException {
        Instant until = clock.instant().plus(patience);
        while (true) {
            try {
                return call(step, timeouts.work());
            } catch (Unreachable e) {
                if (clock.instant().isAfter(until)) {
                    throw e;
                }
                log.warn("{}: {}; trying again", step, e.getMessage());
                sleep(Duration.ofSeconds(1));
            }
        }
    }

    /** The peer's answer to "whose is the VM of this migration?", for a source recovering after a restart. */
    Ownership ownership() throws MigrationException {
        HttpResponse<byte[]> response;
        try {
            response = http.send(HttpRequest.newBuilder(base.resolve("ownership")).timeout(timeouts.answer()).GET()
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpTimeoutException e) {
            throw silent("ownership", timeouts.answer(), e);
        } catch (IOException e) {
            throw new Unreachable("cannot reach agent '" + peerName + "' at " + base.resolve("/") + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted while asking agent '" + peerName + "'", e);
        }
        if (response.statusCode() != 200) {
            throw new MigrationException("agent '" + peerName + "' answered " + response.statusCode() + " about ownership");
        }
        return json.convertValue(parse(response.body()), OwnershipReply.class).ownership();
    }

    /** The peer did not answer at all (as opposed to answering with an error). */
    static final class Unreachable extends MigrationException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The peer took the connection but did not answer: stopped, hung or overloaded. */
    private Unreachable silent(String step, Duration waited, HttpTimeoutException e) {
        return new Unreachable("agent '" + peerName + "' at " + base.resolve("/") + " did not answer " + step
                + " within " + waited.toSeconds() + " s: it is stopped or hung, or the link to it is", e);
    }

    private JsonNode call(String step, Duration timeout) throws MigrationException {
        URI uri = base.resolve(step);
        HttpResponse<byte[]> response;
        try {
            HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(request))).build();
            response = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpTimeoutException e) {
            throw silent(step, timeout, e);
        } catch (IOException e) {
            throw new Unreachable("cannot reach agent '" + peerName + "' at " + base.resolve("/") + " for " + step
                    + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted while waiting for agent '" + peerName + "' at " + step, e);
        }
        JsonNode body = parse(response.body());
        if (response.statusCode() / 100 == 2) {
            return body;
        }
        String code = body.path("error").path("code").asText("");
        String message = body.path("error").path("message").asText("HTTP " + response.statusCode());
        String said = "agent '" + peerName + "' refused " + step + ": " + message;
        if (code.equals("not_taken")) {
            throw new NotTakenException(said);
        }
        throw new MigrationException(said);
    }

    private JsonNode parse(byte[] body) {
        try {
            return body.length == 0 ? json.createObjectNode() : json.readTree(body);
        } catch (IOException e) {
            return json.createObjectNode();
        }
    }

    private void sleep(Duration d) throws MigrationException {
        try {
            pause.pause(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted while waiting to ask agent again", e);
        }
    }
}
