package dev.ferry.migration;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A destination agent's peer endpoints on a real in-process HTTP server, answering each step
 * with what the test scripted (by default: no blockers, prepared, taken and resumed, owned).
 */
final class FakePeer implements AutoCloseable {
    /** One request as the peer saw it: the step, the migration id and the client's port (one per connection). */
    record Call(String step, String migrationId, int clientPort) {}

    private record Answer(int status, String body) {}

    private final HttpServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    final List<Call> calls = new CopyOnWriteArrayList<>();
    private volatile String held;
    private final CountDownLatch heldEntered = new CountDownLatch(1);
    private final CountDownLatch heldRelease = new CountDownLatch(1);

    FakePeer() throws IOException {
        this(0);
    }

    /** Listens on {@code port} (0 for any free one). */
    FakePeer(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/v1/peer/migrations/", this::handle);
        answer("check", 200, "{\"blockers\": []}");
        answer("prepare", 200, "{\"uri\": \"tcp:127.0.0.1:4444\", \"endpoints\": {}}");
        answer("switchover", 200, "{\"resumed\": true, \"notes\": []}");
        answer("abort", 200, "{}");
        answer("ownership", 200, "{\"ownership\": \"OWNED\"}");
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    int port() {
        return server.getAddress().getPort();
    }

    void answer(String step, int status, String body) {
        answers.put(step, new Answer(status, body));
    }

    /** Answers {@code step} with the agent API's error body. */
    void refuse(String step, int status, String code, String message) {
        answer(step, status, "{\"error\": {\"code\": \"" + code + "\", \"message\": \"" + message + "\"}}");
    }

    /** Makes the peer hold its answer to {@code step} until {@link #release}. */
    void hold(String step) {
        held = step;
    }

    void awaitHeld() throws InterruptedException {
        if (!heldEntered.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("the peer was never asked for " + held);
        }
    }

    void release() {
        heldRelease.countDown();
    }

    List<String> steps() {
        return calls.stream().map(Call::step).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            String[] parts = exchange.getRequestURI().getPath().split("/");
            String step = parts[parts.length - 1];
            calls.add(new Call(step, parts[parts.length - 2], exchange.getRemoteAddress().getPort()));
            if (step.equals(held)) {
                heldEntered.countDown();
                try {
                    heldRelease.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Answer a = answers.getOrDefault(step, new Answer(404, "{}"));
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(a.status(), body.length);
            exchange.getResponseBody().write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
