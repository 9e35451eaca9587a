package dev.ferry.bench;

import dev.ferry.agent.api.ApiJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.migration.MigrationStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** One agent's HTTP API for benchmarks: JSON in, status and JSON out. */
final class AgentHttp {
    private static final ObjectMapper JSON = ApiJson.lenient();
    private static final Duration POLL = Duration.ofMillis(100);

    private final URI base;
    private final HttpClient http = HttpClient.newHttpClient();

    record Reply(int status, JsonNode body) {
        <T> T as(Class<T> type) {
            return JSON.convertValue(body, type);
        }

        /** This reply, or an exception naming the request and what the agent said. */
        Reply expect(int wanted, String what) {
            if (status != wanted) {
                throw new IllegalStateException(what + ": HTTP " + status + ": " + body);
            }
            return this;
        }
    }

    AgentHttp(URI base) {
        this.base = base;
    }

    Reply get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    Reply post(String path, Object body) throws IOException, InterruptedException {
        byte[] bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        return send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
    }

    /** Follows a migration until it ended, or {@code limit} passed; returns its last status. */
    MigrationStatus awaitMigration(String id, Duration limit) throws IOException, InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        while (true) {
            MigrationStatus s = get("/v1/migrations/" + id).as(MigrationStatus.class);
            if (!s.running() || System.nanoTime() > until) {
                return s;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private Reply send(HttpRequest.Builder req) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(req.timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofByteArray());
        JsonNode body = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
        return new Reply(r.statusCode(), body);
    }
}
