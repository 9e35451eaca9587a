package dev.ferry.lab;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.ferry.vm.RunDir;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * One agent's HTTP API as the tests see it: JSON in, status and JSON out, and waits on what the
 * API reports. It speaks the wire format only, so it does not move when the agent's classes do.
 */
public final class Api {
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final Duration POLL = Duration.ofMillis(100);

    private final URI base;
    private final HttpClient http;

    /** An answer: its HTTP status and its body ({@code {}} when it had none). */
    public record Reply(int status, JsonNode body) {
        public <T> T as(Class<T> type) {
            return JSON.convertValue(body, type);
        }

        /** A top-level field as text, {@code ""} when absent. */
        public String text(String field) {
            return body.path(field).asText("");
        }

        /** This reply, or an exception naming the request and what the agent said. */
        public Reply expect(int wanted, String what) {
            if (status != wanted) {
                throw new IllegalStateException(what + ": HTTP " + status + ": " + body);
            }
            return this;
        }
    }

    public Api(URI base) {
        this(base, null);
    }

    /** @param tls the client certificate and the CA for an https:// agent; null for plain HTTP */
    public Api(URI base, SSLContext tls) {
        this.base = base;
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5));
        this.http = (tls == null ? b : b.sslContext(tls)).build();
    }

    public URI url() {
        return base;
    }

    public Reply get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    /** POSTs {@code body} as JSON (a request record or a map), or nothing when it is null. */
    public Reply post(String path, Object body) throws IOException, InterruptedException {
        byte[] bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        return send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
    }

    public Reply delete(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).DELETE());
    }

    /** {@code GET /v1/vms/{vm}}. */
    public Reply vm(String vm) throws IOException, InterruptedException {
        return get("/v1/vms/" + vm);
    }

    /** The VM's state here, {@code absent} when this agent does not know it, {@code unreachable} when it is down. */
    public String vmState(String vm) {
        try {
            Reply r = vm(vm);
            return r.status() == 200 ? r.text("state") : "absent";
        } catch (IOException e) {
            return "unreachable";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unreachable";
        }
    }

    /** The pid of the VM's QEMU as this agent reports it. */
    public long qemuPid(String vm) throws IOException, InterruptedException {
        return vm(vm).expect(200, "show vm '" + vm + "' on " + base).body().path("pid").asLong();
    }

    /** The serial log of the VM where this agent runs it. */
    public Path serialLog(String vm) throws IOException, InterruptedException {
        Reply r = vm(vm).expect(200, "show vm '" + vm + "' on " + base);
        return new RunDir(Path.of(r.text("runDir"))).serialLog();
    }

    /** Waits until this agent knows the VM, then returns its serial log. */
    public Path serialLogOnceDefined(String vm, Duration limit) throws IOException, InterruptedException {
        await("vm '" + vm + "' defined on " + base).atMost(limit).pollInterval(Duration.ofMillis(50))
                .until(() -> vm(vm).status() == 200);
        return serialLog(vm);
    }

    /** Destroys the VM and undefines it, if this agent has it: afterwards this agent does not know it. */
    public void removeIfPresent(String vm) throws IOException, InterruptedException {
        if (vm(vm).status() == 200) {
            post("/v1/vms/" + vm + "/destroy", null);
            delete("/v1/vms/" + vm).expect(204, "undefine vm '" + vm + "' on " + base);
        }
    }

    /** Starts a migration; returns its id. */
    public String startMigration(Object request) throws IOException, InterruptedException {
        return post("/v1/migrations", request).expect(202, "start a migration on " + base).text("id");
    }

    /** {@code GET /v1/migrations/{id}}. */
    public Reply migration(String id) throws IOException, InterruptedException {
        return get("/v1/migrations/" + id);
    }

    /** Follows a migration until it is no longer running; fails after {@code limit}. Returns its final status. */
    public Reply awaitMigration(String id, Duration limit) {
        return await("migration " + id + " on " + base + " ends").atMost(limit).pollInterval(POLL)
                .until(() -> migration(id), r -> r.status() == 200 && !r.body().path("running").asBoolean(true));
    }

    /**
     * Follows a migration that ended, until it also has a final phase (a restarted agent may need a
     * moment to recover it from its journal); fails after {@code limit}.
     */
    public Reply awaitSettled(String id, Duration limit) {
        return await("migration " + id + " on " + base + " settles").atMost(limit).pollInterval(Duration.ofMillis(250))
                .ignoreExceptions()
                .until(() -> migration(id), r -> r.status() == 200 && !r.body().path("running").asBoolean(true)
                        && !r.text("phase").equals("unknown"));
    }

    private Reply send(HttpRequest.Builder req) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(req.timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofByteArray());
        JsonNode body = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
        return new Reply(r.statusCode(), body);
    }

    @Override
    public String toString() {
        return base.toString();
    }
}
