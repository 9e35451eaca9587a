package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import dev.ferry.proc.RunningProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/** One {@code ferry agent} process (the shaded jar) and the {@code ferry} commands that talk to it. */
public final class AgentJvm {
    static final Path JAR = Path.of(System.getProperty("basedir", ".")).resolve("target").resolve("ferry.jar")
            .toAbsolutePath();
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final Duration AGENT_UP = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ProcessRunner runner = new ProcessRunner();

    static String ok(ProcResult r) {
        assertThat(r.ok()).as(r.describe()).isTrue();
        return r.stdout().text();
    }

    final Path config;
    final Path dataDir;
    final Queue<String> log = new ConcurrentLinkedQueue<>();
    RunningProcess process;
    String url;

    AgentJvm(Path config, Path dataDir) {
        this.config = config;
        this.dataDir = dataDir;
    }

    Path portFile() {
        return dataDir.resolve("agent.port");
    }

    void start() throws Exception {
        process = runner.start(Command.of(JAVA.toString(), "-jar", JAR.toString(), "agent", "--config", config.toString())
                .onStderrLine(log::add));
        long deadline = System.nanoTime() + AGENT_UP.toNanos();
        while (!Files.isRegularFile(portFile())) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                fail("agent " + config + " wrote no " + portFile() + " within " + AGENT_UP + "; it said:\n"
                        + String.join("\n", log));
            }
            Thread.sleep(50);
        }
        url = "http://127.0.0.1:" + Files.readString(portFile()).strip();
    }

    void restart() throws Exception {
        log.clear();
        start();
    }

    /** SIGKILL to the agent's JVM alone: no shutdown hook runs, its VMs are left as they are. */
    void kill9() throws Exception {
        Processes.kill(process.pid());
        assertThat(process.await(Duration.ofSeconds(10))).as("agent exits on SIGKILL").isPresent();
    }

    /** SIGTERM: the agent closes and leaves. */
    void terminate() throws Exception {
        Processes.terminate(process.pid());
        assertThat(process.await(Duration.ofSeconds(20))).as("agent exits on SIGTERM").isPresent();
        assertThat(Processes.isAlive(process.pid())).isFalse();
    }

    ProcResult ferry(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(JAVA.toString(), "-jar", JAR.toString()));
        argv.addAll(List.of(args));
        argv.addAll(List.of("--agent", url));
        return runner.run(Command.of(argv).timeout(Duration.ofSeconds(60)));
    }

    /** The VM as {@code ferry vm list --json} shows it. */
    JsonNode vm(String name) throws Exception {
        JsonNode list = JSON.readTree(ok(ferry("vm", "list", "--json")));
        for (JsonNode vm : list.path("vms")) {
            if (vm.path("name").asText().equals(name)) {
                return vm;
            }
        }
        return fail("vm '" + name + "' is not in the list of " + url + ": " + list);
    }
}
