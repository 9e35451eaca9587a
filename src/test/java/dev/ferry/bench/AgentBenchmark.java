package dev.ferry.bench;

import static org.awaitility.Awaitility.await;

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
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What an idle agent costs and how long a client command takes, measured on the shipped jar: starts
 * {@code java -jar target/ferry.jar agent} (port 0, data in a temporary directory), defines two VMs
 * (not started), lets it idle 5 s, prints its resident memory (VmRSS), then times ten runs of
 * {@code java -jar target/ferry.jar vm list} and prints min, median and max. Everything it started
 * or wrote is gone when it ends.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -q -o -DskipTests package
 * mvn -o -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) dev.ferry.bench.AgentBenchmark
 * </pre>
 * The plugin version is spelled out because the bare {@code dependency:build-classpath} resolves
 * the old default plugin (2.8), which an offline Maven may not have complete.
 */
public final class AgentBenchmark {
    private static final Path JAR = Path.of("target", "ferry.jar").toAbsolutePath();
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final Duration IDLE = Duration.ofSeconds(5);
    private static final long SETTLED_KIB = 512;
    private static final int LIST_RUNS = 10;

    private final ProcessRunner runner = new ProcessRunner();

    private AgentBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (!Files.isRegularFile(JAR)) {
            System.err.println(JAR + " does not exist; run 'mvn -B -q -o -DskipTests package' in the repository root first");
            System.exit(2);
        }
        new AgentBenchmark().run();
    }

    private void run() throws Exception {
        Path dir = Files.createTempDirectory("ferry-bench-");
        RunningProcess agent = null;
        try {
            Path config = Files.writeString(dir.resolve("agent.yaml"), "host: bench\nport: 0\ndataDir: data\n");
            agent = runner.start(Command.of(JAVA.toString(), "-jar", JAR.toString(), "agent", "--config", config.toString()));
            String url = "http://127.0.0.1:" + awaitPort(dir.resolve("data").resolve("agent.port"), agent);
            for (String name : List.of("bench1", "bench2")) {
                Path spec = Files.writeString(dir.resolve(name + ".yaml"),
                        "name: " + name + "\nmemoryMiB: 256\ndevices:\n  - {type: nic, id: net0, backend: user}\n");
                check(ferry(url, "vm", "define", spec.toString()));
            }
            long settled = settledResidentKiB(agent.pid());
            System.out.printf("agent pid %d, idle with 2 VMs defined, RSS settled (two readings %d s apart within"
                    + " %d KiB): VmRSS %.1f MiB%n", agent.pid(), IDLE.toSeconds(), SETTLED_KIB, settled / 1024.0);

            long[] millis = new long[LIST_RUNS];
            for (int i = 0; i < LIST_RUNS; i++) {
                long start = System.nanoTime();
                check(ferry(url, "vm", "list"));
                millis[i] = (System.nanoTime() - start) / 1_000_000;
            }
            Arrays.sort(millis);
            double median = (millis[LIST_RUNS / 2 - 1] + millis[LIST_RUNS / 2]) / 2.0;
            System.out.printf("'java -jar ferry.jar vm list', %d runs: min %d ms, median %.0f ms, max %d ms%n",
                    LIST_RUNS, millis[0], median, millis[LIST_RUNS - 1]);
        } finally {
            if (agent != null) {
                Processes.terminate(agent.pid());
                if (agent.await(Duration.ofSeconds(20)).isEmpty()) {
                    agent.kill();
                }
            }
            delete(dir);
        }
    }

    private ProcResult ferry(String url, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(JAVA.toString(), "-jar", JAR.toString()));
        argv.addAll(List.of(args));
        argv.addAll(List.of("--agent", url));
        return runner.run(Command.of(argv).timeout(Duration.ofSeconds(60)));
    }

    private static void check(ProcResult r) {
        if (!r.ok()) {
            throw new IllegalStateException(r.describe());
        }
    }

    private static String awaitPort(Path portFile, RunningProcess agent) throws Exception {
        await("the agent writes " + portFile).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> Files.isRegularFile(portFile) || !agent.isAlive());
        if (!agent.isAlive()) {
            throw new IllegalStateException("the agent wrote no " + portFile + ": " + agent.await().describe());
        }
        return Files.readString(portFile).strip();
    }

    /** The agent's RSS once it stopped moving: two readings {@link #IDLE} apart within {@link #SETTLED_KIB}. */
    private static long settledResidentKiB(long pid) {
        long[] last = {-SETTLED_KIB * 2};
        long[] now = {0};
        await("the idle agent's RSS settles").atMost(Duration.ofMinutes(2)).pollInterval(IDLE).until(() -> {
            now[0] = residentKiB(pid);
            boolean settled = Math.abs(now[0] - last[0]) <= SETTLED_KIB;
            last[0] = now[0];
            return settled;
        });
        return now[0];
    }

    /** VmRSS from /proc/PID/status, in KiB. */
    private static long residentKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("/proc/" + pid + "/status has no VmRSS line; is the agent still running?");
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
