package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.agent.api.ApiJson;
import dev.ferry.migration.PeerProtocol;
import dev.ferry.vm.VmSpecParser;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every endpoint against bad input: malformed JSON, a 2 MiB body, unknown fields, and hostile
 * strings as names, ids, hosts and files. Each must be refused with a 4xx and a JSON error that
 * says something, change nothing (the VMs, their processes and the migration history stay as
 * they were), and leave the agent serving. The agent runs the real spec parser on a fake VM host.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2030-01-01T12:00:01Z"), ZoneOffset.UTC);
    private static final ObjectMapper JSON = ApiJson.lenient();
    private static final String TWO_MIB = "{\"spec\": \"" + "a".repeat(2 * 1024 * 1024) + "\"}";

    /** Names as an attacker or a confused script would send them. */
    private static final List<String> HOSTILE = List.of("../../etc/passwd", "a b", "$(reboot)", "'; DROP TABLE vms;--",
            "x".repeat(3000), "nul\u0000byte", "ünïcødé-漢字-🚀", "..", "%2e%2e", "web1/../web2", "web1\nSet-Cookie: x=1");


    private FakeVmHost vmHost;
    private Agent agent;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    record Reply(int status, String body) {}

    /** One endpoint: its method, its path with {@code %s} where a name or id goes, and a valid body. */
    record Endpoint(String method, String path, String validBody) {
        String label() {
            return method + " " + path.replace("%s", "{x}");
        }
    }

    private static final List<Endpoint> ENDPOINTS = List.of(
            new Endpoint("POST", "/v1/vms", "{\"spec\": \"name: web3\\nmemoryMiB: 64\\n\", \"baseDir\": \"/\"}"),
            new Endpoint("GET", "/v1/vms/%s", null),
            new Endpoint("DELETE", "/v1/vms/%s", null),
            new Endpoint("POST", "/v1/vms/%s/start", null),
            new Endpoint("POST", "/v1/vms/%s/pause", null),
            new Endpoint("POST", "/v1/vms/%s/resume", null),
            new Endpoint("POST", "/v1/vms/%s/stop", null),
            new Endpoint("POST", "/v1/vms/%s/destroy", null),
            new Endpoint("POST", "/v1/vms/%s/save", "{\"file\": \"/nonexistent/dir/web.save\"}"),
            new Endpoint("POST", "/v1/restore", "{\"file\": \"/nonexistent/web.save\"}"),
            new Endpoint("POST", "/v1/migrations", "{\"vm\": \"ghost\", \"to\": \"nowhere\"}"),
            new Endpoint("GET", "/v1/migrations/%s", null),
            new Endpoint("POST", "/v1/migrations/%s/cancel", null),
            new Endpoint("POST", "/v1/peer/migrations/%s/check", peerBody("m1")),
            new Endpoint("POST", "/v1/peer/migrations/%s/prepare", peerBody("m1")),
            new Endpoint("POST", "/v1/peer/migrations/%s/switchover", peerBody("m1")),
            new Endpoint("POST", "/v1/peer/migrations/%s/abort", peerBody("m1")));

    @BeforeAll
    void anAgentWithTwoVms(@TempDir Path dir) throws Exception {
        vmHost = new FakeVmHost(dir.resolve("data/run"));
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1"), TestAgents.parts(vmHost, CLOCK, VmSpecParser::parse));
        assertThat(send("POST", "/v1/vms", "{\"spec\": \"name: web1\\nmemoryMiB: 64\\n\", \"baseDir\": \"/\"}").status()).isEqualTo(201);
        assertThat(send("POST", "/v1/vms", "{\"spec\": \"name: web2\\nmemoryMiB: 64\\n\", \"baseDir\": \"/\"}").status()).isEqualTo(201);
        assertThat(send("POST", "/v1/vms/web1/start", null).status()).isEqualTo(200);
    }

    @AfterAll
    void tearDown() {
        if (agent != null) {
            agent.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> malformedJson_oversizedBodies_andUnknownFields_areRefused() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Endpoint e : ENDPOINTS) {
            if (e.validBody() == null) {
                continue;
            }
            String path = e.path().formatted("web2");
            tests.add(refused(e.label() + " with malformed JSON", e.method(), path, "{\"spec\": \"name: x\", "));
            tests.add(refused(e.label() + " with a 2 MiB body", e.method(), path, TWO_MIB));
            tests.add(refused(e.label() + " with an unknown field", e.method(), path,
                    e.validBody().replaceFirst("\\{", "{\"bogus\": 1, ")));
            tests.add(refused(e.label() + " with JSON of the wrong shape", e.method(), path, "[1, 2, 3]"));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> hostileNamesInPaths_areRefused() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Endpoint e : ENDPOINTS) {
            if (!e.path().contains("%s")) {
                continue;
            }
            for (String name : HOSTILE) {
                String path = e.path().formatted(URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"));
                boolean peer = e.path().startsWith("/v1/peer/");
                String body = peer ? peerBody(name) : e.validBody();
                tests.add(refused(e.label() + " with {x} = " + shown(name), e.method(), path, body));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> hostileStringsInBodies_areRefused() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String s : HOSTILE) {
            String q = jsonString(s);
            tests.add(refused("define a VM named " + shown(s), "POST", "/v1/vms",
                    "{\"spec\": " + jsonString("name: " + q + "\nmemoryMiB: 64\n") + ", \"baseDir\": \"/\"}"));
            tests.add(refused("define with baseDir " + shown(s), "POST", "/v1/vms",
                    "{\"spec\": \"name: web9\\nmemoryMiB: 64\\nkernel: k\\n\", \"baseDir\": " + q + "}"));
            tests.add(refused("migrate a VM named " + shown(s), "POST", "/v1/migrations",
                    "{\"vm\": " + q + ", \"to\": \"node2\"}"));
            tests.add(refused("migrate web2 to " + shown(s), "POST", "/v1/migrations",
                    "{\"vm\": \"web2\", \"to\": " + q + "}"));
            tests.add(refused("save web1 into " + shown(s), "POST", "/v1/vms/web1/save", "{\"file\": " + q + "}"));
            tests.add(refused("restore from " + shown(s), "POST", "/v1/restore", "{\"file\": " + q + "}"));
            tests.add(refused("peer prepare of a spec named " + shown(s), "POST", "/v1/peer/migrations/m2/prepare",
                    "{\"migrationId\": \"m2\", \"sourceHost\": " + q + ", \"spec\": " + jsonString("name: " + q + "\n")
                            + ", \"mode\": " + q + "}"));
        }
        return tests.stream();
    }

    private DynamicTest refused(String name, String method, String path, String body) {
        return DynamicTest.dynamicTest(name, () ->
                assertThat(problems(method, path, body)).as("%s %s", method, path).isEmpty());
    }

    /** Sends one request; returns how the agent's answer falls short of a clean refusal, or nothing. */
    private List<String> problems(String method, String path, String body) throws Exception {
        State before = state();
        Reply r = send(method, path, body);
        List<String> problems = new ArrayList<>();
        if (r.status() < 400 || r.status() > 499) {
            problems.add("HTTP " + r.status() + " " + abbreviate(r.body()));
        }
        JsonNode error;
        try {
            error = JSON.readTree(r.body()).path("error");
        } catch (JsonProcessingException e) {
            error = JSON.missingNode();
        }
        if (error.path("code").asText().isBlank() || error.path("message").asText().isBlank()) {
            problems.add("no JSON error with a code and a message: " + abbreviate(r.body()));
        }
        State after = state();
        if (!after.equals(before)) {
            problems.add("the agent's state changed: " + abbreviate(after.toString()));
        }
        if (send("GET", "/v1/host", null).status() != 200) {
            problems.add("the agent stopped serving");
        }
        return problems;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    /** What the agent holds: the VM list and migration history as it reports them, and the "QEMU" processes. */
    record State(String vms, String migrations, Set<String> alive) {}

    private State state() throws Exception {
        return new State(send("GET", "/v1/vms", null).body(), send("GET", "/v1/migrations", null).body(),
                Set.copyOf(vmHost.alive.keySet()));
    }

    private Reply send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(agent.url() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body());
    }

    private static String peerBody(String id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("protocol", PeerProtocol.VERSION);
        m.put("migrationId", id);
        m.put("sourceHost", "node2");
        m.put("spec", "name: web7\nmemoryMiB: 64\n");
        m.put("mode", "live");
        try {
            return JSON.writeValueAsString(m);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String jsonString(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String shown(String s) {
        String printable = s.replace("\u0000", "\\0").replace("\n", "\\n");
        return printable.length() > 30 ? printable.substring(0, 20) + "...(" + s.length() + " chars)" : printable;
    }
}
