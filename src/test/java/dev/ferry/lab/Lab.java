package dev.ferry.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.guest.GuestKit;
import dev.ferry.pki.PkiException;
import dev.ferry.pki.TestPki;
import dev.ferry.pki.TlsContexts;
import dev.ferry.pki.TlsDir;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;

/**
 * N agents on this machine, each the peer of every other, with their data directories under one
 * root (a test's {@code @TempDir}, or a benchmark's directory). Built with {@link #in}: agents run
 * in this JVM unless {@link Builder#separateJvms} asks for {@code ferry agent} processes; with
 * {@link Builder#linkProxies} each agent reaches its peers' APIs through a {@link LinkProxy} a test
 * can cut or make hold a request; {@link Builder#fakeTool} installs one {@link FakeTool} for a
 * device kind; with {@link Builder#holdingQemu} each agent's QEMU is a {@link QemuHold} that can
 * keep the agent inside an incoming start. Closing destroys every VM the agents have, stops them, and ends (and reports) any
 * process still naming the root.
 */
public final class Lab implements AutoCloseable {
    public static final String A = "host-a";
    public static final String B = "host-b";
    /**
     * The agents' {@code accel} when {@code -Dferry.accel=auto|kvm|tcg} is given (their default,
     * auto, otherwise): {@code tcg} for a machine whose {@code /dev/kvm} exists but boots no guest.
     */
    private static final String ACCEL = System.getProperty("ferry.accel");

    private final Path root;
    private final ProcessRunner runner = new ProcessRunner();
    private final Map<String, LabAgent> agents = new LinkedHashMap<>();
    private final Map<String, LinkProxy> proxies = new LinkedHashMap<>();
    private final FakeTool tool;
    private final Map<String, QemuHold> qemuHolds = new LinkedHashMap<>();
    private final TestPki pki;

    /** How the lab is made; {@link #start} makes it. */
    public static final class Builder {
        private final Path root;
        private List<String> hosts = List.of(A, B);
        private boolean separateJvms;
        private boolean linkProxies;
        private Path logs;
        private final Map<String, Path> toolPaths = new LinkedHashMap<>();
        private final Map<String, Map<String, String>> toolTimeouts = new LinkedHashMap<>();
        private final Map<String, String> toolDialects = new LinkedHashMap<>();
        private String fakeToolKind;
        private boolean holdingQemu;
        private boolean tls = true;

        private Builder(Path root) {
            this.root = root;
        }

        /** The agents' host names; {@code host-a} and {@code host-b} unless told otherwise. */
        public Builder hosts(String... names) {
            this.hosts = List.of(names);
            return this;
        }

        /** Each agent a {@code java -jar target/ferry.jar agent} process that a test can SIGKILL and restart. */
        public Builder separateJvms() {
            this.separateJvms = true;
            return this;
        }

        /** Every agent reaches each peer's API through a {@link LinkProxy} in front of that peer. */
        public Builder linkProxies() {
            this.linkProxies = true;
            return this;
        }

        /** Each agent runs QEMU through a {@link QemuHold}, so a test can hold it inside an incoming start. */
        public Builder holdingQemu() {
            this.holdingQemu = true;
            return this;
        }

        /**
         * The default: a cluster CA under the root's {@code pki}, a host certificate for each agent
         * ({@code pki/<host>}, for 127.0.0.1 and localhost) with {@code tls} in its config and https peers, so
         * that the API, the peer calls and QEMU's streams (migration and NBD) all run over mutual TLS, and an
         * operator's certificate ({@code pki/operator}) the lab's API clients and {@code ferry} runs present.
         * With {@link #linkProxies} the links can be cut, but a hold cannot see a request through TLS.
         */
        public Builder tls() {
            this.tls = true;
            return this;
        }

        /**
         * Agents without certificates: plain HTTP between them and plain QEMU streams. Only for tests of the
         * plain mode, and for tests whose {@link LinkProxy} holds must read a request's path (TLS hides it).
         */
        public Builder plain() {
            this.tls = false;
            return this;
        }

        /**
         * Where separate agent JVMs append their output. Unless told otherwise, a directory of its own
         * under {@code target/lab-logs}, named after the test class, which outlives the test's temporary
         * root so that a failed test's agent logs can still be read.
         */
        public Builder logsIn(Path dir) {
            this.logs = dir;
            return this;
        }

        /** The agents' migration tool for {@code kind} with per-step timeouts ({@code sync: 2s}). */
        public Builder tool(String kind, Path script, Map<String, String> timeouts) {
            toolPaths.put(kind, script);
            toolTimeouts.put(kind, Map.copyOf(timeouts));
            return this;
        }

        /** The agents' tool for {@code kind} speaks {@code dialect} ({@code xen}) instead of ferry. */
        public Builder dialect(String kind, String dialect) {
            toolDialects.put(kind, dialect);
            return this;
        }

        /** A {@link FakeTool}, installed under the root, as the agents' tool for {@code kind}. */
        public Builder fakeTool(String kind, Map<String, String> timeouts) {
            this.fakeToolKind = kind;
            toolTimeouts.put(kind, Map.copyOf(timeouts));
            return this;
        }

        /** Starts every agent; on failure stops what started and rethrows. */
        public Lab start() throws Exception {
            Lab lab = new Lab(this);
            try {
                for (LabAgent agent : lab.agents.values()) {
                    agent.start();
                }
                return lab;
            } catch (Exception | Error e) {
                try {
                    lab.close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
                throw e;
            }
        }
    }

    /** A lab whose files all live under {@code root}; keep it short, run directories hold Unix sockets. */
    public static Builder in(Path root) {
        return new Builder(root);
    }

    private Lab(Builder b) throws IOException {
        this.root = b.root.toAbsolutePath().normalize();
        Path logs = Files.createDirectories(b.logs != null ? b.logs : LabLogs.newDirectory());
        Map<String, Path> tools = new LinkedHashMap<>(b.toolPaths);
        this.tool = b.fakeToolKind == null ? null : FakeTool.install(root.resolve("tool"));
        if (tool != null) {
            tools.put(b.fakeToolKind, tool.path());
        }
        Path operatorCert = null;
        Map<String, Path> hostCerts = new LinkedHashMap<>();
        if (b.tls) {
            try {
                this.pki = TestPki.in(root.resolve("pki"));
                for (String host : b.hosts) {
                    hostCerts.put(host, pki.host(host, host));
                }
                operatorCert = pki.operator("lab-operator", "operator");
            } catch (Exception e) {
                throw new IOException("cannot make the lab's certificates: " + e.getMessage(), e);
            }
        } else {
            this.pki = null;
        }
        String scheme = b.tls ? "https" : "http";
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String host : b.hosts) {
            ports.put(host, freePort());
            if (b.linkProxies) {
                proxies.put(host, LinkProxy.start(ports.get(host)));
            }
        }
        for (String host : b.hosts) {
            Map<String, String> peers = new LinkedHashMap<>();
            for (String peer : b.hosts) {
                if (!peer.equals(host)) {
                    peers.put(peer, b.linkProxies ? proxies.get(peer).url().replace("http:", scheme + ":")
                            : scheme + "://127.0.0.1:" + ports.get(peer));
                }
            }
            Path dataDir = root.resolve(host);
            Path config = writeConfig(host, ports.get(host), dataDir, peers, tools, b, null, hostCerts.get(host));
            if (b.holdingQemu) {
                // The real QEMU is the one the agent would run without the hold: its default, found as it finds it.
                QemuHold hold = QemuHold.install(root.resolve("qemu").resolve(host), LabAgent.load(config).qemu());
                qemuHolds.put(host, hold);
                config = writeConfig(host, ports.get(host), dataDir, peers, tools, b, hold.path(), hostCerts.get(host));
            }
            agents.put(host, new LabAgent(host, config, dataDir, ports.get(host), logs.resolve(host + ".log"),
                    b.separateJvms, runner, operatorCert));
        }
    }

    /**
     * The agent configuration file: the one place the lab decides how an agent is set up. A null
     * {@code qemu} leaves the agent its default.
     */
    private Path writeConfig(String host, int port, Path dataDir, Map<String, String> peers, Map<String, Path> tools,
                             Builder b, Path qemu, Path tlsDir) throws IOException {
        List<String> lines = new ArrayList<>(List.of("host: " + host, "listen: 127.0.0.1", "port: " + port,
                "dataDir: \"" + dataDir + "\""));
        if (tlsDir != null) {
            lines.add("tls: {dir: \"" + tlsDir + "\"}");
        }
        if (qemu != null) {
            lines.add("qemu: \"" + qemu + "\"");
        }
        if (ACCEL != null) {
            lines.add("accel: " + ACCEL);
        }
        // The tests' disks and save files live in the lab's root; the test guest boots from the kit's cache.
        lines.add("storage: [\"" + root + "\"]");
        lines.add("saves: [\"" + root + "\"]");
        lines.add("boot: [\"" + GuestKit.inUserCache(runner).cacheDir() + "\"]");
        lines.add("peers:");
        peers.forEach((peer, url) -> lines.add("  " + peer + ": " + url));
        if (!tools.isEmpty()) {
            lines.add("tools:");
            tools.forEach((kind, path) -> {
                lines.add("  " + kind + ":");
                lines.add("    path: \"" + path + "\"");
                if (b.toolDialects.containsKey(kind)) {
                    lines.add("    dialect: " + b.toolDialects.get(kind));
                }
                Map<String, String> t = b.toolTimeouts.getOrDefault(kind, Map.of());
                if (!t.isEmpty()) {
                    lines.add("    timeouts: {" + String.join(", ", t.entrySet().stream()
                            .map(e -> e.getKey() + ": " + e.getValue()).toList()) + "}");
                }
            });
        }
        return Files.writeString(root.resolve(host + ".yaml"), String.join("\n", lines) + "\n");
    }

    public Path root() {
        return root;
    }

    /** The lab's cluster CA, unless it was built {@link Builder#plain}. */
    public TestPki pki() {
        if (pki == null) {
            throw new IllegalStateException("the lab has no certificates; it was built plain()");
        }
        return pki;
    }

    /** A client-side TLS context from a certificate directory, as the CLI makes it. */
    public static SSLContext clientContext(Path certDir) {
        try {
            return TlsContexts.client(new TlsDir(certDir));
        } catch (PkiException e) {
            throw new IllegalStateException("the lab's certificate directory " + certDir + " is unusable: " + e.getMessage(), e);
        }
    }

    public List<String> hosts() {
        return List.copyOf(agents.keySet());
    }

    public LabAgent agent(String host) {
        LabAgent agent = agents.get(host);
        if (agent == null) {
            throw new IllegalArgumentException("the lab has no agent '" + host + "'; it has " + agents.keySet());
        }
        return agent;
    }

    public Api api(String host) {
        return agent(host).api();
    }

    /** In a two-host lab, the host that is not {@code host}. */
    public String other(String host) {
        return hosts().stream().filter(h -> !h.equals(host)).findFirst().orElseThrow();
    }

    /** The proxy {@code host}'s peers reach its API through. */
    public LinkProxy linkTo(String host) {
        LinkProxy proxy = proxies.get(host);
        if (proxy == null) {
            throw new IllegalStateException("the lab has no link proxies; build it with linkProxies()");
        }
        return proxy;
    }

    /** The fake tool, when the lab was built with one. */
    public FakeTool tool() {
        if (tool == null) {
            throw new IllegalStateException("the lab has no fake tool; build it with fakeTool(kind, timeouts)");
        }
        return tool;
    }

    /** {@code host}'s QEMU hold, when the lab was built with {@link Builder#holdingQemu}. */
    public QemuHold qemuHold(String host) {
        QemuHold hold = qemuHolds.get(host);
        if (hold == null) {
            throw new IllegalStateException("the lab runs QEMU without a hold; build it with holdingQemu()");
        }
        return hold;
    }

    /** Lets every held QEMU launcher exit and waits until it has; does nothing in a lab without holds. */
    public void releaseQemuHolds() throws IOException, InterruptedException {
        for (QemuHold hold : qemuHolds.values()) {
            hold.release();
        }
    }

    /** Defines {@code specYaml} on {@code host} and starts it; returns its serial log. */
    public Path defineAndStart(String host, String vm, String specYaml) throws IOException, InterruptedException {
        api(host).post("/v1/vms", Map.of("spec", specYaml, "baseDir", root.toString())).expect(201, "define vm '" + vm + "' on " + host);
        api(host).post("/v1/vms/" + vm + "/start", null).expect(200, "start vm '" + vm + "' on " + host);
        return api(host).serialLog(vm);
    }

    /** Destroys every VM every living agent has. */
    public void destroyAllVms() throws IOException, InterruptedException {
        for (String host : hosts()) {
            if (agent(host).isAlive()) {
                for (JsonNode vm : api(host).get("/v1/vms").body().path("vms")) {
                    api(host).post("/v1/vms/" + vm.path("name").asText() + "/destroy", null);
                }
            }
        }
    }

    /** Processes other than this JVM and the agents' JVMs whose command line names {@code dir}. */
    public List<Long> processesIn(Path dir) {
        String mark = dir.toString();
        long self = ProcessHandle.current().pid();
        List<Long> agentPids = agents.values().stream().map(LabAgent::pidOrZero).toList();
        return ProcessHandle.allProcesses().map(ProcessHandle::pid)
                .filter(pid -> pid != self && !agentPids.contains(pid))
                .filter(pid -> Processes.commandLine(pid).map(c -> c.contains(mark)).orElse(false))
                .toList();
    }

    /** QEMU processes whose command line names {@code host}'s data directory. */
    public List<Long> qemusOf(String host) {
        return processesIn(agent(host).dataDir()).stream()
                .filter(pid -> Processes.arguments(pid).map(argv -> argv.get(0).contains("qemu-system")).orElse(false))
                .toList();
    }

    /** Ends what the agents started under {@code dir} (QEMU, swtpm, tools) by pid, and waits for it. */
    public void killProcessesIn(Path dir) throws InterruptedException {
        for (long pid : processesIn(dir)) {
            Processes.kill(pid);
            Processes.awaitExit(pid, Duration.ofSeconds(10));
        }
    }

    /** SIGSTOP to one process: it keeps its sockets and state but does nothing until {@link #resume}. */
    public void freeze(long pid) throws IOException, InterruptedException {
        signal("STOP", pid);
    }

    /** SIGCONT to a process {@link #freeze} stopped, unless something killed it meanwhile. */
    public void resume(long pid) throws IOException, InterruptedException {
        if (Processes.isAlive(pid)) {
            signal("CONT", pid);
        }
    }

    private void signal(String name, long pid) throws IOException, InterruptedException {
        ProcResult r = runner.run(Command.of("kill", "-" + name, Long.toString(pid)).timeout(Duration.ofSeconds(10)));
        if (!r.ok()) {
            throw new IOException("SIG" + name + " to pid " + pid + " failed: " + r.describe());
        }
    }

    /**
     * Back to nothing: every agent killed (or stopped, in process) with everything it started, its
     * data directory removed, and started again empty.
     */
    public void wipe() throws Exception {
        for (LabAgent agent : agents.values()) {
            if (agent.isAlive()) {
                if (agent.pidOrZero() != 0) {
                    agent.kill9();
                } else {
                    agent.stop();
                }
            }
        }
        killProcessesIn(root);
        for (LabAgent agent : agents.values()) {
            deleteTree(agent.dataDir());
        }
        for (LabAgent agent : agents.values()) {
            agent.start();
        }
    }

    /**
     * Destroys every VM, stops the agents and the proxies, then ends any process still naming the
     * root; fails naming them, since an agent must not leave anything behind.
     */
    @Override
    public void close() throws Exception {
        List<Exception> failures = new ArrayList<>();
        if (tool != null) {
            tool.reset();
        }
        proxies.values().forEach(LinkProxy::release);
        try {
            releaseQemuHolds();
        } catch (Exception e) {
            failures.add(e);
        }
        try {
            destroyAllVms();
        } catch (Exception e) {
            failures.add(e);
        }
        for (LabAgent agent : agents.values()) {
            try {
                agent.stop();
            } catch (Exception e) {
                failures.add(e);
            }
        }
        proxies.values().forEach(LinkProxy::close);
        List<String> left = processesIn(root).stream()
                .map(pid -> pid + " " + Processes.commandLine(pid).orElse("?")).toList();
        killProcessesIn(root);
        if (!left.isEmpty()) {
            failures.add(new IllegalStateException("processes left behind under " + root + ": " + left));
        }
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException("closing the lab: " + failures.get(0).getMessage(), failures.get(0));
            failures.subList(1, failures.size()).forEach(e::addSuppressed);
            throw e;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * Removes an agent's data directory, which a test's {@code @TempDir} would only remove at its end;
     * one that is a mount point (a {@link SmallDisk}) is emptied and kept.
     */
    private static void deleteTree(Path dir) throws IOException {
        boolean mountPoint = Files.exists(dir) && !Files.getFileStore(dir).equals(Files.getFileStore(dir.getParent()));
        for (int attempt = 1; mountPoint ? hasEntries(dir) : Files.exists(dir); attempt++) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).filter(p -> !(mountPoint && p.equals(dir))).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (NoSuchFileException | UncheckedIOException e) {
                // A daemon that was just exiting removed its own socket while we walked.
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    private static boolean hasEntries(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isPresent();
        }
    }
}
