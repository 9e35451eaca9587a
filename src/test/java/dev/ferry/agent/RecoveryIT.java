package dev.ferry.agent;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.guest.GuestSpecs;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.RunDir;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Agents killed with SIGKILL in the middle of a migration and restarted: the journal decides, and
 * exactly one copy of the guest runs afterwards with its disk and TPM state intact. The agents are
 * real processes (the shaded jar); one guest serves the tests in order. Host A reaches host B
 * through a proxy that can lose B's answers to switchover calls.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecoveryIT {
    private static final String VM = "crashvm";

    private final ProcessRunner runner = new ProcessRunner();
    private Path root;
    private Path hold;
    private Path disk;
    private AgentJvm a;
    private AgentJvm b;
    private SwitchoverDropper proxyToB;
    private Map<Integer, String> pcrsAtBoot;
    private String bootId;
    private long lastAcknowledged;

    @BeforeAll
    void bootOnA() throws Exception {
        root = Files.createTempDirectory("ferry-recovery-it");
        GuestArtifacts kit = GuestKit.inUserCache(runner).build();
        hold = root.resolve("hold");
        Path tool = root.resolve("hold-tool");
        // Blocks at post-suspend while the hold file exists: the migration stands still there.
        Files.writeString(tool, """
                #!/bin/sh
                if [ "$2" = "post-suspend" ]; then
                  touch '%s.reached'
                  while [ -e '%s' ]; do sleep 0.1; done
                fi
                exit 0
                """.formatted(hold, hold));
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        int portA = freePort();
        int portB = freePort();
        int proxyPort = freePort();
        a = agent("host-a", portA, "host-b", "http://127.0.0.1:" + proxyPort, tool);
        b = agent("host-b", portB, "host-a", "http://127.0.0.1:" + portA, tool);
        proxyToB = new SwitchoverDropper(proxyPort, URI.create("http://127.0.0.1:" + portB));
        a.start();
        b.start();
        GuestSpecs.Written written = new GuestSpecs(runner).write(kit, VM, root.resolve("vm"), "64M", 256);
        disk = written.disk();
        String spec = Files.readString(written.spec()) + "- {type: external, id: hold0, kind: hold}\n";
        Files.writeString(written.spec(), spec);
        Api api = new Api(URI.create(a.url));
        Api.Reply defined = api.post("/v1/vms", new DefineVmRequest(spec, written.spec().getParent().toString()));
        assertThat(defined.status()).as("%s%n%s", defined.body(), spec).isEqualTo(201);
        assertThat(api.post("/v1/vms/" + VM + "/start", null).status()).isEqualTo(200);
        GuestConsole up = GuestConsole.await(serialLog(a), c -> c.pcrs().size() == 8 && c.lastWrote() >= 5,
                Duration.ofSeconds(120));
        assertThat(up.pcrs()).hasSize(8);
        pcrsAtBoot = up.pcrs();
        bootId = up.bootId();
    }

    @AfterAll
    void cleanUp() throws Exception {
        Files.deleteIfExists(hold);
        for (AgentJvm agent : new AgentJvm[] {a, b}) {
            if (agent != null && agent.process != null && agent.process.isAlive()) {
                new Api(URI.create(agent.url)).post("/v1/vms/" + VM + "/destroy", null);
                agent.terminate();
            }
        }
        if (proxyToB != null) {
            proxyToB.close();
        }
        assertThat(AgentProcessIT.processesMentioning(root)).as("processes left behind").isEmpty();
        TestAgents.delete(root);
    }

    @Test
    @Order(1)
    void sourceKilledDuringPostSuspend_restartsAndRollsBack_theGuestRunsOnTheSourceOnly() throws Exception {
        Files.writeString(hold, "");
        String id = startMigration(a, "host-b");
        awaitHoldReached();

        a.kill9();
        Files.delete(hold);
        Files.deleteIfExists(Path.of(hold + ".reached"));
        Files.deleteIfExists(a.portFile());
        a.restart();

        JsonNode m = awaitSettled(a, id);
        assertThat(m.path("phase").asText()).isEqualTo("rolled-back");
        assertExactlyOneCopyOn(a, b);
    }

    @Test
    @Order(2)
    void sourceKilledAfterTheDestinationTookTheVm_restarts_andOnlyCleansUp() throws Exception {
        proxyToB.dropSwitchoverAnswers = true;
        String id = startMigration(a, "host-b");
        // B does the switchover; A never hears it and keeps asking through the proxy.
        GuestConsole onB = GuestConsole.await(serialLogWhenDefined(b), c -> c.lastTick() > c.firstTick() + 10,
                Duration.ofSeconds(60));
        assertThat(onB.lastTick()).isGreaterThan(onB.firstTick() + 10);

        a.kill9();
        proxyToB.dropSwitchoverAnswers = false;
        Files.deleteIfExists(a.portFile());
        a.restart();

        JsonNode m = awaitSettled(a, id);
        assertThat(m.path("phase").asText()).isEqualTo("completed");
        assertExactlyOneCopyOn(b, a);
    }

    @Test
    @Order(3)
    void bothKilledDuringPostSuspend_restartedDestinationFirst_exactlyOneCopy() throws Exception {
        bothKilled(true);
    }

    @Test
    @Order(4)
    void bothKilledDuringPostSuspend_restartedSourceFirst_exactlyOneCopy_diskAndTpmIntact() throws Exception {
        bothKilled(false);
        AgentJvm holder = holder();
        lastAcknowledged = Math.max(lastAcknowledged, GuestConsole.read(serialLog(holder)).lastWrote());
        new Api(URI.create(holder.url)).post("/v1/vms/" + VM + "/destroy", null);
        DiskReport report = DiskVerifier.verify(disk, runner);
        assertThat(report.clean()).as("%s", report).isTrue();
        assertThat(report.highestContiguous()).isGreaterThanOrEqualTo(lastAcknowledged);
    }

    /** The guest is on B after test 2; it moves B to A with both agents killed while post-suspend holds. */
    private void bothKilled(boolean destinationFirst) throws Exception {
        AgentJvm source = holder();
        AgentJvm dest = source == a ? b : a;
        Files.writeString(hold, "");
        String id = startMigration(source, source == a ? "host-b" : "host-a");
        awaitHoldReached();

        source.kill9();
        dest.kill9();
        Files.delete(hold);
        Files.deleteIfExists(Path.of(hold + ".reached"));
        Files.deleteIfExists(source.portFile());
        Files.deleteIfExists(dest.portFile());
        if (destinationFirst) {
            dest.restart();
            source.restart();
        } else {
            source.restart();
            dest.restart();
        }

        JsonNode m = awaitSettled(source, id);
        assertThat(m.path("phase").asText()).isEqualTo("rolled-back");
        assertExactlyOneCopyOn(source, dest);
    }

    /** Exactly one running copy, on {@code owner}: ticking, PCRs as at boot; nothing of it on {@code other}. */
    private void assertExactlyOneCopyOn(AgentJvm owner, AgentJvm other) throws Exception {
        Api onOwner = new Api(URI.create(owner.url));
        Api onOther = new Api(URI.create(other.url));
        assertThat(onOwner.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        assertThat(onOther.get("/v1/vms/" + VM).status()).as("the other host does not have the VM").isEqualTo(404);
        assertThat(AgentProcessIT.processesMentioning(other.dataDir.resolve("run"))).as("no QEMU on the other host").isEmpty();
        long tick = GuestConsole.read(serialLog(owner)).lastTick();
        GuestConsole later = GuestConsole.await(serialLog(owner), c -> c.lastTick() >= tick + 10 && c.pcrs().size() == 8,
                Duration.ofSeconds(30));
        assertThat(later.lastTick()).as("the guest ticks").isGreaterThanOrEqualTo(tick + 10);
        assertThat(later.pcrs()).as("TPM state intact").isEqualTo(pcrsAtBoot);
        assertThat(later.lines().stream().filter(l -> l.startsWith("boot ")))
                .as("not rebooted: no boot line but the first boot's").allMatch(l -> l.equals("boot " + bootId));
        lastAcknowledged = Math.max(lastAcknowledged, later.lastWrote());
    }

    private AgentJvm holder() throws Exception {
        return new Api(URI.create(a.url)).get("/v1/vms/" + VM).status() == 200 ? a : b;
    }

    private String startMigration(AgentJvm from, String to) throws Exception {
        Api.Reply r = new Api(URI.create(from.url)).post("/v1/migrations",
                new MigrateRequest(VM, to, false, null, null, null, null, 60L));
        assertThat(r.status()).as("%s", r.body()).isEqualTo(202);
        return r.body().path("id").asText();
    }

    private void awaitHoldReached() throws Exception {
        Path reached = Path.of(hold + ".reached");
        long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!Files.exists(reached) && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        assertThat(reached).as("the migration got to post-suspend").exists();
    }

    private JsonNode awaitSettled(AgentJvm agent, String id) throws Exception {
        Api api = new Api(URI.create(agent.url));
        long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        JsonNode m = api.get("/v1/migrations/" + id).body();
        while ((m.path("running").asBoolean() || m.path("phase").asText().equals("unknown")) && System.nanoTime() < until) {
            Thread.sleep(250);
            m = api.get("/v1/migrations/" + id).body();
        }
        return m;
    }

    private Path serialLog(AgentJvm agent) throws Exception {
        String runDir = new Api(URI.create(agent.url)).get("/v1/vms/" + VM).body().path("runDir").asText();
        return new RunDir(Path.of(runDir)).serialLog();
    }

    private Path serialLogWhenDefined(AgentJvm agent) throws Exception {
        Api api = new Api(URI.create(agent.url));
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (api.get("/v1/vms/" + VM).status() != 200 && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        return serialLog(agent);
    }

    private AgentJvm agent(String host, int port, String peer, String peerUrl, Path tool) throws IOException {
        Path data = Files.createDirectories(root.resolve(host));
        Path config = root.resolve(host + ".yaml");
        Files.writeString(config, String.join("\n", "host: " + host, "port: " + port, "dataDir: " + data,
                "peers:", "  " + peer + ": " + peerUrl, "tools:", "  hold:", "    path: " + tool,
                "    timeouts: {post-suspend: 5m}", ""));
        return new AgentJvm(config, data);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
