package dev.ferry.fault;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import dev.ferry.proc.RunningProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * One {@code ferry agent} JVM on a fixed port (so peers' URLs stay valid across a restart), its
 * log appended to a file. SIGKILL takes the JVM alone: its QEMU, swtpm and tool processes live on,
 * as they would when an agent crashes.
 */
final class AgentProcess {
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final Duration UP = Duration.ofSeconds(60);

    private final String host;
    private final Path jar;
    private final Path config;
    private final Path dataDir;
    private final Path log;
    private final int port;
    private final ProcessRunner runner;
    private RunningProcess process;

    AgentProcess(String host, Path jar, Path config, Path dataDir, Path log, int port, ProcessRunner runner) {
        this.host = host;
        this.jar = jar;
        this.config = config;
        this.dataDir = dataDir;
        this.log = log;
        this.port = port;
        this.runner = runner;
    }

    String host() {
        return host;
    }

    Path dataDir() {
        return dataDir;
    }

    int port() {
        return port;
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** The JVM's pid, or 0 before the first start. */
    long pidOrZero() {
        return process == null ? 0 : process.pid();
    }

    /** Starts the JVM and waits until it wrote its port file. */
    void start() throws IOException, InterruptedException {
        Files.deleteIfExists(dataDir.resolve("agent.port"));
        note("---- start");
        process = runner.start(Command.of(JAVA.toString(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", jar.toString(), "agent", "--config", config.toString()).onStderrLine(this::note).onStdoutLine(this::note));
        long deadline = System.nanoTime() + UP.toNanos();
        while (!Files.isRegularFile(dataDir.resolve("agent.port"))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("agent " + host + " did not come up within " + UP + "; see " + log);
            }
            Thread.sleep(50);
        }
    }

    /** SIGKILL to the JVM alone, then waits until it is gone. */
    void kill9() throws InterruptedException {
        if (process == null) {
            return;
        }
        note("---- SIGKILL");
        Processes.kill(process.pid());
        process.await(Duration.ofSeconds(10));
    }

    /** SIGTERM; SIGKILL if it does not leave within 20 s. */
    void stopIfStarted() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        Processes.terminate(process.pid());
        if (process.await(Duration.ofSeconds(20)).isEmpty()) {
            kill9();
        }
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    private void note(String line) {
        try {
            Files.writeString(log, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
