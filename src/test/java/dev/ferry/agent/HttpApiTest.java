package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.agent.api.ApiJson;
import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.HttpApi;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The API against a real server on a free port, with a fake VM host. */
class HttpApiTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2030-01-01T12:00:01Z"), ZoneOffset.UTC);
    private static final ObjectMapper JSON = ApiJson.lenient();

    @TempDir
    Path dir;
    private FakeVmHost vmHost;
    private Agent agent;
    private final HttpClient http = HttpClient.newHttpClient();

    record Reply(int status, JsonNode json, String body) {
        String errorCode() {
            return json.path("error").path("code").asText();
        }

        String errorMessage() {
            return json.path("error").path("message").asText();
        }
    }

    @BeforeEach
    void setUp() {
        vmHost = new FakeVmHost(dir.resolve("data/run"));
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1"), TestAgents.parts(vmHost, CLOCK));
    }

    @AfterEach
    void tearDown() {
        agent.close();
    }

    private Reply send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(agent.url().resolve(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
        return new Reply(r.statusCode(), json, r.body());
    }

    private Reply get(String path) throws Exception {
        return send("GET", path, null);
    }

    private Reply post(String path, String body) throws Exception {
        return send("POST", path, body);
    }

    private static String define(String yaml) throws Exception {
        return JSON.writeValueAsString(new DefineVmRequest(yaml, "/specs"));
    }

    private void assertStillServing() throws Exception {
        assertThat(get("/v1/host").status()).isEqualTo(200);
    }

    private void assertError(Reply r, int status, String code, String messagePart) throws Exception {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.errorCode()).isEqualTo(code);
        assertThat(r.errorMessage()).contains(messagePart);
        assertStillServing();
    }

    @Test
    void vmLifecycle_definedStartedPausedResumedStoppedDestroyedUndefined() throws Exception {
        Reply defined = post("/v1/vms", define("name: web1\nmemory: 512\n"));
        assertThat(defined.status()).isEqualTo(201);
        assertThat(defined.json().path("state").asText()).isEqualTo("defined");
        assertThat(defined.json().path("spec").asText()).as("the normalized spec, generated values included")
                .isEqualTo(FakeSpecs.spec("web1").toYaml());

        assertThat(get("/v1/vms").json().path("vms")).extracting(v -> v.path("name").asText()).containsExactly("web1");
        assertThat(post("/v1/vms/web1/start", null).json().path("state").asText()).isEqualTo("running");
        Reply shown = get("/v1/vms/web1");
        assertThat(shown.json().path("pid").asLong()).isPositive();
        assertThat(shown.json().path("runDir").asText()).endsWith("run/web1");
        assertThat(post("/v1/vms/web1/pause", null).json().path("state").asText()).isEqualTo("paused");
        assertThat(post("/v1/vms/web1/resume", null).json().path("state").asText()).isEqualTo("running");
        assertThat(post("/v1/vms/web1/stop", null).json().path("state").asText()).isEqualTo("stopped");
        assertThat(vmHost.alive).isEmpty();
        assertThat(post("/v1/vms/web1/start", null).json().path("state").asText()).isEqualTo("running");
        assertThat(post("/v1/vms/web1/destroy", null).json().path("state").asText()).isEqualTo("stopped");
        assertThat(vmHost.alive).isEmpty();

        assertThat(send("DELETE", "/v1/vms/web1", null).status()).isEqualTo(204);
        assertError(get("/v1/vms/web1"), 404, "not_found", "vm 'web1' not found");
    }

    @Test
    void define_sameNameTwice_isAConflict() throws Exception {
        post("/v1/vms", define("name: web1\n"));
        assertError(post("/v1/vms", define("name: web1\n")), 409, "conflict", "vm 'web1' is already defined");
    }

    @Test
    void define_malformedJson_is400WithThePosition() throws Exception {
        assertError(post("/v1/vms", "{\"spec\": "), 400, "invalid_request", "malformed JSON at line 1");
    }

    @Test
    void define_unknownRequestField_is400NamingIt() throws Exception {
        assertError(post("/v1/vms", "{\"spec\": \"name: a\", \"specs\": 1}"), 400, "invalid_request", "unknown field 'specs'");
    }

    @Test
    void define_withoutSpec_saysWhatToSend() throws Exception {
        assertError(post("/v1/vms", "{}"), 400, "invalid_request", "spec: missing");
        assertError(post("/v1/vms", ""), 400, "invalid_request", "no body");
    }

    @Test
    void define_relativeBaseDir_isRejected() throws Exception {
        assertError(post("/v1/vms", JSON.writeValueAsString(new DefineVmRequest("name: a", "specs"))),
                400, "invalid_request", "baseDir: 'specs' is not an absolute path");
    }

    @Test
    void define_specWithUnknownKey_is400NamingTheKey() throws Exception {
        // The real spec parser is built elsewhere; FakeSpecs rejects unknown keys the same way.
        assertError(post("/v1/vms", define("name: web1\nbogus: 1\n")), 400, "invalid_spec", "bogus: unknown key");
    }

    @Test
    void oversizedBody_is413() throws Exception {
        String big = "{\"spec\": \"" + "a".repeat(HttpApi.MAX_BODY_BYTES + 10) + "\"}";
        assertError(post("/v1/vms", big), 413, "body_too_large", "limited to 1048576 bytes");
    }

    @Test
    void unknownVm_is404NamingIt() throws Exception {
        assertError(get("/v1/vms/ghost"), 404, "not_found", "vm 'ghost' not found");
        assertError(post("/v1/vms/ghost/start", null), 404, "not_found", "vm 'ghost' not found");
        assertError(send("DELETE", "/v1/vms/ghost", null), 404, "not_found", "vm 'ghost' not found");
    }

    @Test
    void illegalTransition_is409NamingBothStates() throws Exception {
        post("/v1/vms", define("name: web1\n"));
        assertError(post("/v1/vms/web1/pause", null), 409, "illegal_transition", "vm 'web1': cannot go from defined to paused");

        post("/v1/vms/web1/start", null);
        post("/v1/vms/web1/stop", null);
        assertError(post("/v1/vms/web1/pause", null), 409, "illegal_transition", "vm 'web1': cannot go from stopped to paused");
    }

    @Test
    void undefine_runningVm_isAConflict() throws Exception {
        post("/v1/vms", define("name: web1\n"));
        post("/v1/vms/web1/start", null);
        assertError(send("DELETE", "/v1/vms/web1", null), 409, "conflict", "vm 'web1' is running; stop or destroy it");
    }

    @Test
    void start_failingQemu_leavesTheVmCrashedAndSaysWhy() throws Exception {
        post("/v1/vms", define("name: web1\n"));
        vmHost.failStart.add("web1");

        assertError(post("/v1/vms/web1/start", null), 500, "vm_failed", "qemu exited at start: boom");
        assertThat(get("/v1/vms/web1").json().path("state").asText()).isEqualTo("crashed");

        vmHost.failStart.clear();
        assertThat(post("/v1/vms/web1/start", null).json().path("state").asText()).isEqualTo("running");
    }

    @Test
    void unknownRouteAndMethod_areJsonErrors() throws Exception {
        assertError(get("/v1/nothing"), 404, "no_route", "no route GET /v1/nothing");
        assertError(get("/"), 404, "no_route", "no route");
        assertError(send("PUT", "/v1/vms", "{}"), 405, "method_not_allowed", "PUT is not allowed on /v1/vms");
    }

    @Test
    void lifecycleCallDuringAStop_isBusyNamingTheStop() throws Exception {
        post("/v1/vms", define("name: web1\n"));
        post("/v1/vms/web1/start", null);
        vmHost.stopEntered = new CountDownLatch(1);
        vmHost.releaseStop = new CountDownLatch(1);

        CompletableFuture<Reply> stop = CompletableFuture.supplyAsync(() -> {
            try {
                return post("/v1/vms/web1/stop", null);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(vmHost.stopEntered.await(10, TimeUnit.SECONDS)).isTrue();

        assertError(post("/v1/vms/web1/pause", null), 409, "busy", "vm 'web1' is busy: stop in progress since 12:00:01");
        assertError(post("/v1/vms/web1/destroy", null), 409, "busy", "stop in progress");
        assertThat(get("/v1/vms/web1").json().path("job").asText()).isEqualTo("stop since 12:00:01");
        assertThat(get("/v1/vms/web1").json().path("state").asText()).isEqualTo("stopping");

        vmHost.releaseStop.countDown();
        assertThat(stop.get(10, TimeUnit.SECONDS).json().path("state").asText()).isEqualTo("stopped");
        assertThat(post("/v1/vms/web1/start", null).status()).isEqualTo(200);
    }

    @Test
    void host_reportsVersionsAndResources() throws Exception {
        JsonNode h = get("/v1/host").json();
        assertThat(h.path("name").asText()).isEqualTo("node1");
        assertThat(h.path("qemuVersion").asText()).isEqualTo("8.2.2");
        assertThat(h.path("swtpmVersion").asText()).isEqualTo("0.7.3");
        assertThat(h.path("cpus").asInt()).isEqualTo(8);
        assertThat(h.path("memoryTotalMiB").asLong()).isEqualTo(16384);
        assertThat(h.path("memoryAvailableMiB").asLong()).isEqualTo(12000);
        assertThat(h.path("ferryVersion").asText()).isNotBlank();
    }

    @Test
    void portFile_holdsThePortWhileRunning() throws Exception {
        Path portFile = dir.resolve("data/agent.port");
        assertThat(Files.readString(portFile).strip()).isEqualTo(String.valueOf(agent.port()));
        agent.close();
        assertThat(portFile).doesNotExist();
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1"), TestAgents.parts(vmHost, CLOCK));
    }

    @Test
    @Timeout(30)
    void events_streamStateChangesAsServerSentEvents() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(agent.url().resolve("/v1/events"))
                .header("Accept", "text/event-stream").GET().build();
        HttpResponse<InputStream> stream = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.events().listenerCount() == 1);

        post("/v1/vms", define("name: web1\n"));
        post("/v1/vms/web1/start", null);

        List<JsonNode> events = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            String line;
            while (events.size() < 3 && (line = lines.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    events.add(JSON.readTree(line.substring("data: ".length())));
                }
            }
        }
        assertThat(events).extracting(e -> e.path("vm").asText() + ":" + e.path("from").asText(null) + "->" + e.path("to").asText())
                .containsExactly("web1:null->defined", "web1:defined->starting", "web1:starting->running");
        assertThat(events.get(2).path("at").asText()).isEqualTo("2030-01-01T12:00:01Z");
    }

    @Test
    void events_withoutEventStreamAccept_is400SayingWhichHeader() throws Exception {
        assertError(get("/v1/events"), 400, "invalid_request", "Accept: text/event-stream");
    }

    @Test
    void restartedAgent_reattachesToTheVmsThatKeptRunning() throws Exception {
        post("/v1/vms", define("name: web1\n"));
        post("/v1/vms", define("name: web2\n"));
        post("/v1/vms/web1/start", null);
        post("/v1/vms/web2/start", null);
        agent.close();
        assertThat(vmHost.alive).containsOnlyKeys("web1", "web2");

        vmHost.alive.remove("web2");
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1"), TestAgents.parts(vmHost, CLOCK));

        assertThat(get("/v1/vms/web1").json().path("state").asText()).isEqualTo("running");
        assertThat(get("/v1/vms/web2").json().path("state").asText()).isEqualTo("crashed");
        assertThat(post("/v1/vms/web1/pause", null).json().path("state").asText()).isEqualTo("paused");
    }

    @Test
    void vmName_withSpecialCharacters_roundTripsInThePath() throws Exception {
        post("/v1/vms", define("name: 'a b'\n"));
        assertThat(get("/v1/vms/a%20b").json().path("name").asText()).isEqualTo("a b");
    }
}
