package dev.ferry.bench;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.agent.config.ConfigException;
import dev.ferry.agent.Agent;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.agent.VmInfo;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.Result;
import dev.ferry.vm.RunDir;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Two in-process agents, {@code host-a} and {@code host-b}, each the other's peer, with data
 * directories under the benchmark's root. Closing destroys every VM either of them has, then stops
 * both (an agent that stops leaves its VMs running, so the destroy is ours to do).
 */
final class AgentPair implements AutoCloseable {
    static final String A = "host-a";
    static final String B = "host-b";
    private static final Duration MIGRATION_LIMIT = Duration.ofMinutes(3);

    private final Agent a;
    private final Agent b;
    private final AgentHttp onA;
    private final AgentHttp onB;

    private AgentPair(Agent a, Agent b) {
        this.a = a;
        this.b = b;
        this.onA = new AgentHttp(a.url());
        this.onB = new AgentHttp(b.url());
    }

    /** @param tools migration tools by device type or external kind, as under {@code tools} in an agent config */
    static AgentPair start(Path root, Map<String, Path> tools) throws IOException, ConfigException {
        int portA = freePort();
        int portB = freePort();
        Agent a = agent(root, A, portA, B, portB, tools);
        try {
            return new AgentPair(a, agent(root, B, portB, A, portA, tools));
        } catch (RuntimeException | IOException | ConfigException e) {
            a.close();
            throw e;
        }
    }

    AgentHttp api(String host) {
        return host.equals(A) ? onA : onB;
    }

    /** The configuration {@code host}'s agent runs with (its QEMU and swtpm binaries, its data directory). */
    AgentConfig config(String host) {
        return host.equals(A) ? a.config() : b.config();
    }

    static String other(String host) {
        return host.equals(A) ? B : A;
    }

    /** Defines {@code specYaml} on {@code host} and starts it; returns its serial log. */
    Path defineAndStart(String host, String vm, String specYaml, Path baseDir) throws IOException, InterruptedException {
        api(host).post("/v1/vms", new DefineVmRequest(specYaml, baseDir.toString())).expect(201, "define vm '" + vm + "'");
        VmInfo started = api(host).post("/v1/vms/" + vm + "/start", null).expect(200, "start vm '" + vm + "'").as(VmInfo.class);
        return new RunDir(Path.of(started.runDir())).serialLog();
    }

    /** Migrates {@code vm} live from {@code from} to the other host with Ferry's defaults; fails unless it completed. */
    MigrationReport migrate(String vm, String from) throws IOException, InterruptedException {
        String to = other(from);
        MigrationStatus started = api(from).post("/v1/migrations", new MigrateRequest(vm, to, false, null, null, null, null, null))
                .expect(202, "migrate vm '" + vm + "' from " + from + " to " + to).as(MigrationStatus.class);
        MigrationStatus done = api(from).awaitMigration(started.id(), MIGRATION_LIMIT);
        MigrationReport report = done.report();
        if (done.running() || report == null || report.result() != Result.COMPLETED) {
            throw new IllegalStateException("migration " + started.id() + " of vm '" + vm + "' from " + from + " to " + to
                    + " did not complete: " + (report == null ? "still " + done.phase() + " after " + MIGRATION_LIMIT.toMinutes()
                    + " min" : report.result().wireName() + (report.failure() == null ? "" : ": " + report.failure().describe())));
        }
        return report;
    }

    /** The serial log of {@code vm} on {@code host}, where it runs now. */
    Path serialLog(String host, String vm) throws IOException, InterruptedException {
        VmInfo info = api(host).get("/v1/vms/" + vm).expect(200, "show vm '" + vm + "' on " + host).as(VmInfo.class);
        return new RunDir(Path.of(info.runDir())).serialLog();
    }

    /** Destroys {@code vm} on whichever host has it. */
    void destroy(String vm) throws IOException, InterruptedException {
        for (AgentHttp api : List.of(onA, onB)) {
            if (api.get("/v1/vms/" + vm).status() == 200) {
                api.post("/v1/vms/" + vm + "/destroy", null);
            }
        }
    }

    @Override
    public void close() {
        List<Exception> failures = new ArrayList<>();
        for (AgentHttp api : List.of(onA, onB)) {
            try {
                for (var vm : api.get("/v1/vms").body().path("vms")) {
                    api.post("/v1/vms/" + vm.path("name").asText() + "/destroy", null);
                }
            } catch (IOException | RuntimeException e) {
                failures.add(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        a.close();
        b.close();
        failures.forEach(e -> System.err.println("bench: destroying the agents' VMs: " + e));
    }

    private static Agent agent(Path root, String host, int port, String peer, int peerPort, Map<String, Path> tools)
            throws IOException, ConfigException {
        Path data = Files.createDirectories(root.resolve(host));
        List<String> lines = new ArrayList<>(List.of("host: " + host, "listen: 127.0.0.1", "port: " + port,
                "dataDir: " + data, "peers:", "  " + peer + ": http://127.0.0.1:" + peerPort));
        if (!tools.isEmpty()) {
            lines.add("tools:");
            tools.forEach((kind, path) -> lines.add("  " + kind + ": {path: \"" + path + "\"}"));
        }
        Path config = data.resolve("agent.yaml");
        Files.writeString(config, String.join("\n", lines) + "\n");
        return Agent.start(AgentConfig.load(config));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
