package dev.ferry.fault;

import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The system the matrix breaks: two agent processes ({@code host-a}, {@code host-b}), each
 * reaching the other's API through a {@link LinkProxy}, and one test guest with a shared data disk,
 * a user-mode NIC, a swtpm vTPM and an {@code external} device run by the {@link FaultTool}. The
 * guest bounces between the hosts; {@link #owner} says where it runs now.
 */
final class Lab implements AutoCloseable {
    static final String A = "host-a";
    static final String B = "host-b";
    static final String VM = "fm";
    private static final Duration BOOT = Duration.ofSeconds(120);

    final Path root;
    final ProcessRunner runner = new ProcessRunner();
    final FaultTool tool;
    final Path disk;
    private final GuestArtifacts guest;
    private final AgentProcess a;
    private final AgentProcess b;
    private final LinkProxy toA;
    private final LinkProxy toB;
    private final AgentApi apiA;
    private final AgentApi apiB;
    private String owner = A;
    private Map<Integer, String> pcrsAtBoot = Map.of();
    private long highestWrote;

    private Lab(Path root, Path jar, Path logs, GuestArtifacts guest) throws IOException {
        this.root = root;
        this.guest = guest;
        this.tool = FaultTool.install(root);
        this.disk = root.resolve("data.qcow2");
        int portA = freePort();
        int portB = freePort();
        this.toA = LinkProxy.start(portA);
        this.toB = LinkProxy.start(portB);
        this.a = new AgentProcess(A, jar, config(A, portA, B, toB), root.resolve(A), logs.resolve(A + ".log"), portA, runner);
        this.b = new AgentProcess(B, jar, config(B, portB, A, toA), root.resolve(B), logs.resolve(B + ".log"), portB, runner);
        this.apiA = new AgentApi(a.url());
        this.apiB = new AgentApi(b.url());
    }

    /** Starts both agents and boots the guest on {@code host-a}. */
    static Lab start(Path jar, Path logs, GuestArtifacts guest) throws Exception {
        // Short: run directories hold Unix sockets, whose paths are limited to 107 bytes.
        Path root = Files.createTempDirectory("fm").toRealPath();
        Files.createDirectories(logs);
        Lab lab = new Lab(root, jar, logs, guest);
        try {
            if (!lab.runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", lab.disk.toString(), "64M")).ok()) {
                throw new IllegalStateException("qemu-img could not create " + lab.disk);
            }
            lab.a.start();
            lab.b.start();
            lab.bootGuest();
            return lab;
        } catch (Exception | Error e) {
            lab.close();
            throw e;
        }
    }

    String owner() {
        return owner;
    }

    void owner(String host) {
        owner = host;
    }

    static String other(String host) {
        return host.equals(A) ? B : A;
    }

    AgentProcess agent(String host) {
        return host.equals(A) ? a : b;
    }

    AgentApi api(String host) {
        return host.equals(A) ? apiA : apiB;
    }

    /** The proxy the other host reaches {@code host}'s API through. */
    LinkProxy linkTo(String host) {
        return host.equals(A) ? toA : toB;
    }

    Map<Integer, String> pcrsAtBoot() {
        return pcrsAtBoot;
    }

    long highestWrote() {
        return highestWrote;
    }

    /** Raises the highest {@code wrote N} seen anywhere to what {@code log} says. */
    void sawWrites(GuestConsole log) {
        highestWrote = Math.max(highestWrote, log.lastWrote());
    }

    /** Reads every serial log either host has (run directories and kept logs) for records written. */
    void harvestWrites() throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith("serial.log")).toList()) {
                try {
                    sawWrites(GuestConsole.read(p));
                } catch (NoSuchFileException e) {
                    // Removed while we walked: its VM went away and its log with it.
                }
            }
        }
    }

    /** The serial log of the guest where {@code host}'s agent says it runs. */
    Path serialLog(String host) throws IOException, InterruptedException {
        AgentApi.Reply vm = api(host).get("/v1/vms/" + VM);
        return Path.of(vm.text("runDir")).resolve("serial.log");
    }

    /** Processes other than this JVM whose command line names {@code dir}. */
    List<Long> processesIn(Path dir) {
        String mark = dir + "/";
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses().map(ProcessHandle::pid)
                .filter(pid -> pid != self && pid != a.pidOrZero() && pid != b.pidOrZero())
                .filter(pid -> Processes.commandLine(pid).map(c -> c.contains(mark)).orElse(false))
                .toList();
    }

    /** QEMU processes whose command line names {@code host}'s data directory. */
    List<Long> qemusOf(String host) {
        return processesIn(agent(host).dataDir()).stream()
                .filter(pid -> Processes.arguments(pid).map(argv -> argv.get(0).contains("qemu-system")).orElse(false))
                .toList();
    }

    /**
     * Back to a known state after a cell that broke something: both agents and everything they
     * started are killed, their data directories wiped, and the guest booted again on host-a from
     * the same disk (it resumes writing after its highest record).
     */
    void reset() throws Exception {
        harvestWrites();
        tool.reset();
        toA.release();
        toB.release();
        toA.heal();
        toB.heal();
        a.kill9();
        b.kill9();
        killProcessesIn(root);
        deleteTree(a.dataDir());
        deleteTree(b.dataDir());
        a.start();
        b.start();
        bootGuest();
    }

    private void bootGuest() throws Exception {
        AgentApi.Reply defined = apiA.post("/v1/vms", Map.of("spec", spec(), "baseDir", root.toString()));
        if (defined.status() != 201) {
            throw new IllegalStateException("define on host-a: " + defined);
        }
        AgentApi.Reply started = apiA.post("/v1/vms/" + VM + "/start", null);
        if (started.status() != 200) {
            throw new IllegalStateException("start on host-a: " + started);
        }
        owner = A;
        GuestConsole up = GuestConsole.await(serialLog(A), c -> c.pcrs().size() == 8 && c.lastWrote() >= 3, BOOT);
        if (up.pcrs().size() != 8) {
            throw new IllegalStateException("the guest printed no PCRs within " + BOOT + ":\n" + String.join("\n", up.lines()));
        }
        pcrsAtBoot = up.pcrs();
        sawWrites(up);
    }

    private String spec() {
        return """
                name: %s
                memoryMiB: 256
                vcpus: 1
                kernel: "%s"
                initrd: "%s"
                cmdline: "%s"
                devices:
                  - {type: disk, id: data0, path: "%s", format: qcow2, shared: true}
                  - {type: nic, id: net0, backend: user}
                  - {type: tpm, id: tpm0, backend: swtpm}
                  - {type: external, id: fpga0, kind: fault}
                """.formatted(VM, guest.kernel(), guest.initramfs(), guest.kernelCmdline(), disk);
    }

    private Path config(String host, int port, String peer, LinkProxy toPeer) throws IOException {
        Path config = root.resolve(host + ".yaml");
        String t = FaultTool.STEP_TIMEOUT.toSeconds() + "s";
        Files.writeString(config, String.join("\n",
                "host: " + host,
                "listen: 127.0.0.1",
                "port: " + port,
                "dataDir: " + root.resolve(host),
                "peers:",
                "  " + peer + ": " + toPeer.url(),
                "tools:",
                "  fault:",
                "    path: " + tool.path(),
                "    timeouts: {check: " + t + ", pre-suspend: " + t + ", post-suspend: " + t + ", sync: " + t
                        + ", recover: 10s}",
                ""));
        return config;
    }

    @Override
    public void close() throws Exception {
        try {
            harvestWrites();
            tool.reset();
            toA.close();
            toB.close();
            a.stopIfStarted();
            b.stopIfStarted();
            killProcessesIn(root);
        } finally {
            deleteTree(root);
        }
    }

    /** Ends what the agents started under {@code dir} (QEMU, swtpm, tools) by pid, and waits for it. */
    void killProcessesIn(Path dir) throws InterruptedException {
        for (long pid : processesIn(dir)) {
            Processes.kill(pid);
            Processes.awaitExit(pid, Duration.ofSeconds(10));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        for (int attempt = 1; Files.exists(dir); attempt++) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (NoSuchFileException e) {
                // A daemon that was just exiting removed its own socket while we walked.
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }
}
