package dev.ferry.lab;

import static org.awaitility.Awaitility.await;

import dev.ferry.agent.Agent;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import dev.ferry.proc.RunningProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One agent of the {@link Lab} on a fixed port (so its peers' URLs stay valid across a restart),
 * either in this JVM ({@link Agent#start}) or as a {@code java -jar target/ferry.jar agent}
 * process whose output is appended to a log file. Both read the same YAML configuration, written
 * by the lab; SIGKILL ({@link #kill9}) is for processes only and takes the JVM alone: its QEMU,
 * swtpm and tool processes live on, as they do when an agent crashes.
 */
public final class LabAgent {
    /** The shaded jar that {@code mvn verify} builds before the integration tests. */
    public static final Path JAR = Path.of(System.getProperty("basedir", ".")).resolve("target").resolve("ferry.jar")
            .toAbsolutePath().normalize();
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    private static final Duration UP = Duration.ofSeconds(60);

    private final String host;
    private final Path config;
    private final Path dataDir;
    private final int port;
    private final Path log;
    private final boolean separateJvm;
    private final ProcessRunner runner;
    private final Path operatorCert;
    private final Api api;
    private Agent inProcess;
    private RunningProcess process;

    /** @param operatorCert the operator's certificate directory the tests call a TLS agent with; null for plain HTTP */
    LabAgent(String host, Path config, Path dataDir, int port, Path log, boolean separateJvm, ProcessRunner runner,
             Path operatorCert) {
        this.host = host;
        this.operatorCert = operatorCert;
        this.config = config;
        this.dataDir = dataDir;
        this.port = port;
        this.log = log;
        this.separateJvm = separateJvm;
        this.runner = runner;
        this.api = new Api(url(), operatorCert == null ? null : Lab.clientContext(operatorCert));
    }

    /**
     * The one place the lab turns its configuration into an {@link AgentConfig}: through the
     * public loader, exactly as {@code ferry agent --config} does.
     */
    static AgentConfig load(Path configFile) {
        try {
            return AgentConfig.load(configFile);
        } catch (Exception e) {
            throw new IllegalStateException("the lab wrote an agent configuration the agent refuses: " + configFile, e);
        }
    }

    public String host() {
        return host;
    }

    public URI url() {
        return URI.create((operatorCert == null ? "http" : "https") + "://127.0.0.1:" + port);
    }

    public Api api() {
        return api;
    }

    /**
     * The temp directory of a separate agent JVM ({@code java.io.tmpdir}): the agent's own, beside its
     * data directory, so a test can count what agents leave in a temp directory and the machine's stays clean.
     */
    public Path tmpDir() {
        return dataDir.resolveSibling(dataDir.getFileName() + ".tmp");
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Where the agent keeps its VMs' run directories. */
    public Path runRoot() {
        return dataDir.resolve("run");
    }

    /** The configuration the agent runs with (its QEMU and swtpm binaries, its data directory). */
    public AgentConfig config() {
        return load(config);
    }

    /** The agent's JVM pid when it runs as a process, else 0. */
    public long pidOrZero() {
        return process == null ? 0 : process.pid();
    }

    public boolean isAlive() {
        return separateJvm ? process != null && process.isAlive() : inProcess != null;
    }

    /** Starts the agent (again, after a kill or stop) and waits until it listens. */
    public void start() throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        Files.deleteIfExists(dataDir.resolve("agent.port"));
        if (!separateJvm) {
            inProcess = Agent.start(load(config));
            return;
        }
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " does not exist; build it first with 'mvn -DskipTests package'"
                    + " (mvn verify builds it before the integration tests)");
        }
        note("---- start");
        Files.createDirectories(tmpDir());
        process = runner.start(Command.of(JAVA.toString(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.io.tmpdir=" + tmpDir(), "-jar", JAR.toString(), "agent", "--config", config.toString()).onStderrLine(this::note).onStdoutLine(this::note));
        RunningProcess starting = process;
        try {
            await("agent " + host + " writes its port file").atMost(UP).pollInterval(Duration.ofMillis(50))
                    .until(() -> Files.isRegularFile(dataDir.resolve("agent.port")) || !starting.isAlive());
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("agent " + host + " did not come up within " + UP + "; see " + log, e);
        }
        if (!starting.isAlive()) {
            throw new IllegalStateException("agent " + host + " exited while starting; see " + log);
        }
    }

    /** SIGKILL to the agent's JVM alone, then waits until it is gone. */
    public void kill9() throws InterruptedException {
        if (!separateJvm) {
            throw new IllegalStateException("agent " + host + " runs in the test's JVM; start the lab with separate JVMs to kill it");
        }
        if (process == null) {
            return;
        }
        note("---- SIGKILL");
        Processes.kill(process.pid());
        if (process.await(Duration.ofSeconds(10)).isEmpty()) {
            throw new IllegalStateException("agent " + host + " (pid " + process.pid() + ") outlived SIGKILL by 10 s");
        }
    }

    /** Stops the agent as an operator would (SIGTERM, or close in process); its VMs keep running. */
    public void stop() throws InterruptedException {
        if (inProcess != null) {
            inProcess.close();
            inProcess = null;
        }
        if (process == null || !process.isAlive()) {
            return;
        }
        Processes.terminate(process.pid());
        if (process.await(Duration.ofSeconds(20)).isEmpty()) {
            kill9();
            throw new IllegalStateException("agent " + host + " did not leave within 20 s of SIGTERM and was killed");
        }
    }

    /** Runs {@code java -jar target/ferry.jar ARGS --agent URL}, as an operator would. */
    public ProcResult ferry(String... args) throws IOException, InterruptedException {
        return runner.run(Command.of(ferryCommand(args)).timeout(Duration.ofSeconds(60)));
    }

    /** The command line of {@code ferry ARGS} against this agent, with the operator's certificate, for a test to start itself. */
    public List<String> ferryCommand(String... args) {
        List<String> argv = new ArrayList<>(List.of(JAVA.toString(), "-jar", JAR.toString()));
        argv.addAll(List.of(args));
        argv.addAll(List.of("--agent", url().toString()));
        if (operatorCert != null) {
            argv.addAll(List.of("--cert", operatorCert.toString()));
        }
        return argv;
    }

    /** Runs {@code java -jar target/ferry.jar ARGS --agent URL} without the operator's certificate. */
    public ProcResult ferryWithoutCert(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(JAVA.toString(), "-jar", JAR.toString()));
        argv.addAll(List.of(args));
        argv.addAll(List.of("--agent", url().toString()));
        return runner.run(Command.of(argv).timeout(Duration.ofSeconds(60)));
    }

    /** Runs {@code java -jar target/ferry.jar agent repair --config CONFIG}, as an operator would with the agent stopped. */
    public ProcResult repair() throws IOException, InterruptedException {
        return runner.run(Command.of(JAVA.toString(), "-jar", JAR.toString(), "agent", "repair", "--config",
                config.toString()).timeout(Duration.ofSeconds(60)));
    }

    private void note(String line) {
        try {
            Files.writeString(log, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return host + " at " + url();
    }
}
