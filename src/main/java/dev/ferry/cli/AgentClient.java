package dev.ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.agent.api.ApiJson;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * Calls one agent's API. Success gives the raw JSON (for {@code --json}) and a typed view of it;
 * an error answer becomes a {@link CliFailure} carrying the agent's own message.
 */
final class AgentClient {
    /** Long enough for a stop, whose guest gets a grace period before QEMU is told to quit. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);

    private final URI base;
    private final HttpClient http;
    private final ObjectMapper json = ApiJson.lenient();

    AgentClient(URI base) {
        this(base, null);
    }

    /** @param tls the operator's certificate and the cluster CA, for an https:// agent; null for plain HTTP */
    AgentClient(URI base, SSLContext tls) {
        this.base = base;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        this.http = (tls == null ? b : b.sslContext(tls)).build();
    }

    /** A successful answer: its body as sent, and a way to read it as a type. */
    record Reply(int status, String body, ObjectMapper json) {
        <T> T as(Class<T> type) {
            try {
                return json.readValue(body, type);
            } catch (JsonProcessingException e) {
                throw new CliFailure(CliFailure.AGENT_ERROR, "the agent's answer is not what this ferry expects ("
                        + e.getOriginalMessage() + "); are the agent and the command line the same version?", e);
            }
        }
    }

    ObjectMapper json() {
        return json;
    }

    Reply get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    Reply post(String path, Object body) {
        String text;
        try {
            text = body == null ? "" : json.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Invalid request body: " + body, e);
        }
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(text)));
    }

    Reply delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    private URI uri(String path) {
        return URI.create(base.toString().replaceAll("/+$", "") + path);
    }

    private Reply send(HttpRequest.Builder request) {
        HttpResponse<String> response;
        try {
            response = http.send(request.timeout(REQUEST_TIMEOUT).header("Accept", "application/json").build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            throw unreachable("no answer within 5 seconds", e);
        } catch (HttpTimeoutException e) {
            throw new CliFailure(CliFailure.AGENT_ERROR, "the agent at " + base + " did not answer within "
                    + REQUEST_TIMEOUT.toMinutes() + " minutes; see the agent's log", e);
        } catch (ConnectException e) {
            throw unreachable("connection refused", e);
        } catch (SSLException e) {
            throw new CliFailure(CliFailure.UNREACHABLE, "the TLS handshake with the agent at " + base + " failed: "
                    + e.getMessage() + "; check that --cert is this cluster's ('ferry pki validate DIR'), not expired,"
                    + " and that the agent's certificate names the host in the URL", e);
        } catch (IOException e) {
            throw unreachable(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(CliFailure.AGENT_ERROR, "interrupted while waiting for the agent at " + base, e);
        }
        if (response.statusCode() >= 400) {
            throw new CliFailure(CliFailure.AGENT_ERROR, errorMessage(response));
        }
        return new Reply(response.statusCode(), response.body(), json);
    }

    private CliFailure unreachable(String why, Exception cause) {
        return new CliFailure(CliFailure.UNREACHABLE, "cannot reach the agent at " + base + ": " + why
                + "; start one with 'ferry agent --config FILE' or pass --agent", cause);
    }

    private String errorMessage(HttpResponse<String> response) {
        try {
            ApiJson.ErrorResponse err = json.readValue(response.body(), ApiJson.ErrorResponse.class);
            if (err.error() != null && err.error().message() != null) {
                return err.error().message();
            }
        } catch (JsonProcessingException e) {
            // Not one of ours (a proxy, another service on that port): show what came back.
        }
        String body = response.body().strip();
        return "the agent at " + base + " answered " + response.statusCode()
                + (body.isEmpty() ? "" : ": " + body.substring(0, Math.min(200, body.length())));
    }
}
