package dev.ferry.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.agent.api.ApiJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain HTTP client of one agent for tests: JSON in, status and JSON out. */
final class Api {
    private static final ObjectMapper JSON = ApiJson.lenient();
    private final URI base;
    private final HttpClient http = HttpClient.newHttpClient();

    record Reply(int status, JsonNode body) {
        <T> T as(Class<T> type) {
            return JSON.convertValue(body, type);
        }
    }

    Api(URI base) {
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

    private Reply send(HttpRequest.Builder req) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(req.timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofByteArray());
        JsonNode body = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
        return new Reply(r.statusCode(), body);
    }
}
