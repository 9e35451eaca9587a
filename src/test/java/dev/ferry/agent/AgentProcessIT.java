package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.guest.GuestSpecs;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import dev.ferry.proc.RunningProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shipped jar as an operator runs it: agents as separate processes ({@code java -jar
 * target/ferry.jar agent}), driven only through the {@code ferry} command line, booting the real
 * test guest. Needs the shaded jar, which {@code mvn verify} builds before the integration tests.
 */
class AgentProcessIT {
    private static final Path JAR = Path.of(System.getProperty("basedir", ".")).resolve("target").resolve("ferry.jar")
            .toAbsolutePath().normalize();
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final Duration AGENT_UP = Duration.ofSeconds(60);
    private static final Duration GUEST_TICKS = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final ProcessRunner runner = new ProcessRunner();
    private static GuestArtifacts guest;

    private final List<AgentJvm> agents = new ArrayList<>();
    private Path root;

    @BeforeAll
    static void jarAndGuest() throws Exception {
        if (!Files.isRegularFile(JAR)) {
            fail(JAR + " does not exist; build it first with 'mvn -DskipTests package' (mvn verify builds it before this test)");
        }
        guest = GuestKit.inUserCache(runner).build();
    }

    @BeforeEach
    void dirs() throws IOException {
        // Short: the agents' run directories hold Unix sockets, whose paths are limited to 107 bytes.
        root = Files.createTempDirectory("fy");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        try {
            for (AgentJvm agent : agents) {
                agent.process.kill();
            }
            List<Long> left = processesMentioning(root);
            left.forEach(Processes::kill);
            assertThat(left).as("processes whose command line names %s", root).isEmpty();
        } finally {
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void aVmOutlivesAKilledAgent_andTheRestartedAgentStillControlsIt() throws Exception {
        AgentJvm agent = startAgent("node-a", "a");
        Path spec = guestSpec("acc1", "vms");
        ok(agent.ferry("vm", "define", spec.toString()));
        ok(agent.ferry("vm", "start", "acc1"));
        JsonNode listed = agent.vm("acc1");
        assertThat(listed.path("state").asText()).isEqualTo("running");
        long qemuPid = listed.path("pid").asLong();
        Path serial = Path.of(listed.path("runDir").asText()).resolve("serial.log");
        long ticking = awaitTicks(serial, 3, GUEST_TICKS);

        agent.kill9();
        assertThat(Processes.isAlive(qemuPid)).as("QEMU after the agent's SIGKILL").isTrue();
        awaitTicks(serial, ticking + 3, Duration.ofSeconds(10));
        Files.delete(agent.portFile());
        agent.restart();

        JsonNode again = agent.vm("acc1");
        assertThat(again.path("state").asText()).isEqualTo("running");
        assertThat(again.path("pid").asLong()).isEqualTo(qemuPid);
        assertThat(ok(agent.ferry("vm", "pause", "acc1"))).contains("paused");
        long pausedAt = GuestConsole.read(serial).lastTick();
        Thread.sleep(1200);
        assertThat(GuestConsole.read(serial).lastTick()).as("ticks while paused").isEqualTo(pausedAt);
        assertThat(ok(agent.ferry("vm", "resume", "acc1"))).contains("running");
        awaitTicks(serial, pausedAt + 3, Duration.ofSeconds(10));

        assertThat(ok(agent.ferry("vm", "stop", "acc1"))).contains("is stopped");
        assertThat(Processes.isAlive(qemuPid)).isFalse();
        agent.terminate();
        assertThat(processesMentioning(root)).as("processes left after stop and agent exit").isEmpty();
    }

    @Test
    void twoAgentsSideBySide_eachRunItsOwnVmOfTheSameName() throws Exception {
        AgentJvm a = startAgent("node-a", "a");
        AgentJvm b = startAgent("node-b", "b");
        assertThat(a.url).isNotEqualTo(b.url);
        ok(a.ferry("vm", "define", guestSpec("twin", "vms-a").toString()));
        ok(b.ferry("vm", "define", guestSpec("twin", "vms-b").toString()));
        ok(a.ferry("vm", "start", "twin"));
        ok(b.ferry("vm", "start", "twin"));

        JsonNode onA = a.vm("twin");
        JsonNode onB = b.vm("twin");
        assertThat(onA.path("pid").asLong()).isNotEqualTo(onB.path("pid").asLong());
        assertThat(onA.path("runDir").asText()).startsWith(root.resolve("a").toString());
        assertThat(onB.path("runDir").asText()).startsWith(root.resolve("b").toString());
        Path serialB = Path.of(onB.path("runDir").asText()).resolve("serial.log");
        awaitTicks(serialB, 3, GUEST_TICKS);

        ok(a.ferry("vm", "pause", "twin"));
        assertThat(b.vm("twin").path("state").asText()).as("b's twin after a paused its own").isEqualTo("running");
        awaitTicks(serialB, GuestConsole.read(serialB).lastTick() + 3, Duration.ofSeconds(10));
        assertThat(ok(a.ferry("vm", "destroy", "twin"))).contains("is stopped");
        assertThat(Processes.isAlive(onB.path("pid").asLong())).as("b's QEMU after a destroyed its twin").isTrue();
        awaitTicks(serialB, GuestConsole.read(serialB).lastTick() + 3, Duration.ofSeconds(10));

        assertThat(ok(b.ferry("vm", "destroy", "twin"))).contains("is stopped");
        a.terminate();
        b.terminate();
    }

    private Path guestSpec(String name, String dir) throws Exception {
        return new GuestSpecs(runner).write(guest, name, root.resolve(dir), "16M", GuestSpecs.DEFAULT_MEMORY_MIB).spec();
    }

    private AgentJvm startAgent(String host, String dataDir) throws Exception {
        Path config = root.resolve(host + ".yaml");
        Files.writeString(config, "host: " + host + "\nport: 0\ndataDir: " + dataDir + "\n");
        AgentJvm agent = new AgentJvm(config, root.resolve(dataDir));
        agents.add(agent);
        agent.start();
        return agent;
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

    static List<Long> processesMentioning(Path dir) {
        return ProcessHandle.allProcesses()
                .map(ProcessHandle::pid)
                .filter(pid -> pid != ProcessHandle.current().pid())
                .filter(pid -> Processes.commandLine(pid).map(c -> c.contains(dir.toString())).orElse(false))
                .toList();
    }
}
