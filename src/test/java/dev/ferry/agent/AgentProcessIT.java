package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestSpecs;
import dev.ferry.lab.Lab;
import dev.ferry.lab.LabAgent;
import dev.ferry.lab.TestGuest;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped jar as an operator runs it: agents as separate processes ({@code java -jar
 * target/ferry.jar agent}), driven only through the {@code ferry} command line, booting the real
 * test guest. Needs the shaded jar, which {@code mvn verify} builds before the integration tests.
 */
class AgentProcessIT {
    private static final Duration GUEST_TICKS = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path root;
    private Lab lab;

    @AfterEach
    void nothingLeftBehind() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void aVmOutlivesAKilledAgent_andTheRestartedAgentStillControlsIt() throws Exception {
        lab = Lab.in(root).hosts("node-a").separateJvms().start();
        LabAgent agent = lab.agent("node-a");
        Path spec = guestSpec("acc1", "vms");
        ok(agent.ferry("vm", "define", spec.toString()));
        ok(agent.ferry("vm", "start", "acc1"));
        JsonNode listed = vm(agent, "acc1");
        assertThat(listed.path("state").asText()).isEqualTo("running");
        long qemuPid = listed.path("pid").asLong();
        Path serial = Path.of(listed.path("runDir").asText()).resolve("serial.log");
        long ticking = awaitTicks(serial, 3, GUEST_TICKS);

        agent.kill9();
        assertThat(Processes.isAlive(qemuPid)).as("QEMU after the agent's SIGKILL").isTrue();
        awaitTicks(serial, ticking + 3, Duration.ofSeconds(10));
        agent.start();
        try (Stream<Path> libs = Files.list(agent.dataDir().resolve("lib"))) {
            assertThat(libs.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".so")))
                    .as("SQLite's native library: the killed agent's extraction is gone, the new one is in the data"
                            + " directory, none in the temp directory").hasSize(1);
        }

        JsonNode again = vm(agent, "acc1");
        assertThat(again.path("state").asText()).isEqualTo("running");
        assertThat(again.path("pid").asLong()).isEqualTo(qemuPid);
        assertThat(ok(agent.ferry("vm", "pause", "acc1"))).contains("paused");
        long pausedAt = GuestConsole.read(serial).lastTick();
        await("no tick while paused").during(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(3))
                .until(() -> GuestConsole.read(serial).lastTick() == pausedAt);
        assertThat(ok(agent.ferry("vm", "resume", "acc1"))).contains("running");
        awaitTicks(serial, pausedAt + 3, Duration.ofSeconds(10));

        assertThat(ok(agent.ferry("vm", "stop", "acc1"))).contains("is stopped");
        assertThat(Processes.isAlive(qemuPid)).isFalse();
        agent.stop();
        assertThat(lab.processesIn(root)).as("processes left after stop and agent exit").isEmpty();
    }

    @Test
    void anAgentKilledAndRestartedTwentyTimes_leavesNothingThatGrows() throws Exception {
        lab = Lab.in(root).hosts("node-a").separateJvms().start();
        LabAgent agent = lab.agent("node-a");
        agent.kill9();
        agent.start();
        long tmpAfterOne = filesIn(agent.tmpDir());
        long libAfterOne = filesIn(agent.dataDir().resolve("lib"));

        for (int i = 0; i < 20; i++) {
            agent.kill9();
            agent.start();
        }

        assertThat(filesIn(agent.tmpDir())).as("files in the agent's temp directory after 20 SIGKILLs and restarts")
                .isEqualTo(tmpAfterOne).isZero();
        assertThat(filesIn(agent.dataDir().resolve("lib"))).as("SQLite's native library under the data directory")
                .isEqualTo(libAfterOne);
        assertThat(ok(agent.ferry("vm", "list"))).isNotNull();
    }

    private static long filesIn(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void twoAgentsSideBySide_eachRunItsOwnVmOfTheSameName() throws Exception {
        lab = Lab.in(root).hosts("node-a", "node-b").separateJvms().start();
        LabAgent a = lab.agent("node-a");
        LabAgent b = lab.agent("node-b");
        assertThat(a.url()).isNotEqualTo(b.url());
        ok(a.ferry("vm", "define", guestSpec("twin", "vms-a").toString()));
        ok(b.ferry("vm", "define", guestSpec("twin", "vms-b").toString()));
        ok(a.ferry("vm", "start", "twin"));
        ok(b.ferry("vm", "start", "twin"));

        JsonNode onA = vm(a, "twin");
        JsonNode onB = vm(b, "twin");
        assertThat(onA.path("pid").asLong()).isNotEqualTo(onB.path("pid").asLong());
        assertThat(onA.path("runDir").asText()).startsWith(a.dataDir().toString());
        assertThat(onB.path("runDir").asText()).startsWith(b.dataDir().toString());
        Path serialB = Path.of(onB.path("runDir").asText()).resolve("serial.log");
        awaitTicks(serialB, 3, GUEST_TICKS);

        ok(a.ferry("vm", "pause", "twin"));
        assertThat(vm(b, "twin").path("state").asText()).as("b's twin after a paused its own").isEqualTo("running");
        awaitTicks(serialB, GuestConsole.read(serialB).lastTick() + 3, Duration.ofSeconds(10));
        assertThat(ok(a.ferry("vm", "destroy", "twin"))).contains("is stopped");
        assertThat(Processes.isAlive(onB.path("pid").asLong())).as("b's QEMU after a destroyed its twin").isTrue();
        awaitTicks(serialB, GuestConsole.read(serialB).lastTick() + 3, Duration.ofSeconds(10));

        assertThat(ok(b.ferry("vm", "destroy", "twin"))).contains("is stopped");
        a.stop();
        b.stop();
    }

    private Path guestSpec(String name, String dir) throws Exception {
        return new GuestSpecs(new ProcessRunner()).write(TestGuest.artifacts(), name, root.resolve(dir), "16M",
                GuestSpecs.DEFAULT_MEMORY_MIB).spec();
    }

    /** The VM as {@code ferry vm list --json} shows it. */
    private static JsonNode vm(LabAgent agent, String name) throws Exception {
        JsonNode list = JSON.readTree(ok(agent.ferry("vm", "list", "--json")));
        for (JsonNode vm : list.path("vms")) {
            if (vm.path("name").asText().equals(name)) {
                return vm;
            }
        }
        return fail("vm '" + name + "' is not in the list of " + agent + ": " + list);
    }

    /** Waits until the guest's highest tick is at least {@code tick}; returns it. */
    private static long awaitTicks(Path serial, long tick, Duration limit) throws Exception {
        GuestConsole console = GuestConsole.await(serial, c -> c.lastTick() >= tick, limit);
        assertThat(console.lastTick()).as("tick %d within %s in %s; it said:%n%s", tick, limit, serial,
                String.join("\n", console.lines())).isGreaterThanOrEqualTo(tick);
        return console.lastTick();
    }

    private static String ok(ProcResult r) {
        assertThat(r.ok()).as(r.describe()).isTrue();
        return r.stdout().text();
    }
}
