package dev.ferry.cli;

import ch.qos.logback.classic.Level;
import dev.ferry.agent.Agent;
import dev.ferry.agent.VmInfo;
import dev.ferry.agent.api.ApiJson;
import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.agent.config.ConfigException;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestBuildException;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.migration.Result;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.RunDir;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ferry demo}: two agents on this machine, the test guest with a vTPM, a data disk and a NIC
 * on the first, one live migration to the second, and a check of what the guest saw.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Show a live migration end to end on this machine: start two agents, boot the test guest "
                + "(a Linux kernel and busybox) with a vTPM, a data disk on the first agent's local storage and a NIC "
                + "on the first, migrate it live to the second (which copies the disk while the guest writes to it), "
                + "then check the guest: its ticks go on, its TPM PCRs are unchanged, and every disk "
                + "record it was told was written is on the disk. Everything runs over mutual TLS (the agents' API and "
                + "QEMU's migration and disk streams) with a throwaway cluster CA made in the demo's directory, "
                + "unless --insecure. Prints the migration report; cleans up after itself.",
                "Exit code 0 when the migration completed and every check passed."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Keep the agents' data, the disk image and the logs in DIR (default: a temporary directory, removed at the end).")
    Path dir;

    @Option(names = "--json", description = "Also print the outcome as one JSON object on the last line.")
    boolean json;

    @Option(names = "--verbose", description = "Show the agents' log lines too.")
    boolean verbose;

    @Option(names = "--shared-disk", description = {"Put the data disk on storage both agents share (nothing to copy)"
            + " instead of on the first agent's local storage (the default, copied live to the second: --local-disk)."})
    boolean sharedDisk;

    @Option(names = "--insecure", description = {"Run without certificates: plain HTTP between the agents and the"
            + " demo, and the guest's memory and disk copied over plain TCP (what an agent without tls does)."})
    boolean insecure;

    @Option(names = "--local-disk", hidden = true, description = "The default: the data disk is local to the first agent.")
    boolean localDisk;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!verbose) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
        }
        boolean temporary = dir == null;
        Path root = temporary ? Files.createTempDirectory("ferry-demo") : Files.createDirectories(dir.toAbsolutePath());
        ProcessRunner runner = new ProcessRunner();
        try {
            return run(root, runner, out);
        } finally {
            if (temporary) {
                DemoGuest.deleteTree(root);
            }
        }
    }

    private int run(Path root, ProcessRunner runner, PrintWriter out) throws Exception {
        say(out, "building the test guest (kernel and initramfs, cached after the first run)");
        DemoGuest guest;
        GuestArtifacts kit;
        try {
            kit = GuestKit.inUserCache(runner).build();
            guest = DemoGuest.create(root, kit, runner, sharedDisk);
        } catch (GuestBuildException e) {
            throw new CliFailure(CliFailure.AGENT_ERROR, "cannot build the test guest: " + e.getMessage(), e);
        }
        int portA = freePort();
        int portB = freePort();
        Path boot = kit.kernel().getParent();
        DemoPki pki = insecure ? null : DemoPki.make(root.resolve("pki"));
        if (pki != null) {
            say(out, "made a throwaway cluster CA and certificates for host-a, host-b and the demo in " + pki.dir());
        }
        try (Agent a = agent(root, boot, "host-a", portA, "host-b", portB, pki);
             Agent b = agent(root, boot, "host-b", portB, "host-a", portA, pki)) {
            say(out, "agents: host-a at " + a.url() + ", host-b at " + b.url() + "; data disk "
                    + (sharedDisk ? "on storage both share" : "local to host-a, copied live to host-b") + "; "
                    + (pki == null ? "no TLS (--insecure): API, RAM and disk copies in clear"
                    : "mutual TLS on the API and on QEMU's RAM and disk streams"));
            AgentClient onA = pki == null ? new AgentClient(a.url()) : new AgentClient(a.url(), pki.operator());
            AgentClient onB = pki == null ? new AgentClient(b.url()) : new AgentClient(b.url(), pki.operator());
            onA.post("/v1/vms", new DefineVmRequest(guest.specYaml(), root.toString()));
            VmInfo started = onA.post("/v1/vms/" + DemoGuest.NAME + "/start", null).as(VmInfo.class);
            Path sourceLog = new RunDir(Path.of(started.runDir())).serialLog();
            say(out, "booting vm '" + DemoGuest.NAME + "' on host-a (serial log " + sourceLog + ")");
            GuestConsole before = GuestConsole.await(sourceLog,
                    c -> c.lastWrote() >= 10 && c.pcrs().size() == 8 && c.lastTick() >= 20, Duration.ofSeconds(90));
            if (before.lastWrote() < 10 || before.pcrs().size() < 8) {
                throw new CliFailure(CliFailure.AGENT_ERROR, "the test guest did not come up within 90 s; see " + sourceLog);
            }
            say(out, "guest up: tick " + before.lastTick() + ", " + before.lastWrote() + " records written, PCR 0 "
                    + before.pcrs().get(0).substring(0, 16) + "...");

            say(out, "migrating live from host-a to host-b");
            MigrationStatus status = onA.post("/v1/migrations", new MigrateRequest(DemoGuest.NAME, "host-b",
                    false, null, null, null, null, null)).as(MigrationStatus.class);
            status = MigrationFollower.untilEnded(onA, status, out, System.console() != null
                    ? MigrationFollower.Progress.BAR : MigrationFollower.Progress.NONE);
            MigrationReport report = status.report();
            ReportPrinter.print(report, out);
            GuestConsole sourceEnd = GuestConsole.read(report.result() == Result.COMPLETED
                    ? a.config().dataDir().resolve("logs").resolve(DemoGuest.NAME + "." + report.id() + ".serial.log")
                    : sourceLog);
            Map<String, Object> outcome = outcome(report);
            outcome.put("tls", pki != null);
            boolean ok = report.result() == Result.COMPLETED
                    && check(onB, guest, runner, sourceEnd, before, outcome, out, b.config().dataDir().resolve("images"));
            if (json) {
                out.println(ApiJson.lenient().writeValueAsString(outcome));
            }
            out.flush();
            return ok ? 0 : CliFailure.AGENT_ERROR;
        }
    }

    /** Checks the guest on the destination, stops it, and reads its disk. */
    private boolean check(AgentClient onB, DemoGuest guest, ProcessRunner runner, GuestConsole sourceEnd,
                          GuestConsole before, Map<String, Object> outcome, PrintWriter out, Path destinationImages)
            throws Exception {
        VmInfo moved = onB.get("/v1/vms/" + DemoGuest.NAME).as(VmInfo.class);
        Path destLog = new RunDir(Path.of(moved.runDir())).serialLog();
        GuestConsole after = GuestConsole.await(destLog,
                c -> c.lastTick() >= c.firstTick() + 20 && c.pcrs().size() == 8, Duration.ofSeconds(30));
        long lastWroteOnDestination = GuestConsole.read(destLog).lastWrote();
        // Destroy, not stop: the test guest ignores ACPI, and what it was told is written is on the disk anyway.
        onB.post("/v1/vms/" + DemoGuest.NAME + "/destroy", null);
        boolean ticks = after.bootId() == null && after.firstTick() > before.lastTick()
                && after.lastTick() > after.firstTick();
        boolean pcrs = after.pcrs().size() == 8 && after.pcrs().equals(before.pcrs());
        long lastWrote = Math.max(sourceEnd.lastWrote(), lastWroteOnDestination);
        DemoGuest.DiskCheck disk = guest.checkDisk(runner, destinationImages, lastWrote);
        outcome.put("guest", Map.of("ticksContinued", ticks, "lastTickOnSource", sourceEnd.lastTick(),
                "firstTickOnDestination", after.firstTick(), "lastTickOnDestination", after.lastTick(),
                "rebooted", after.bootId() != null));
        outcome.put("tpm", Map.of("pcrsPreserved", pcrs, "pcrCount", after.pcrs().size()));
        outcome.put("disk", Map.of("local", !sharedDisk, "lostRecords", disk.lost(), "lastAcknowledged", lastWrote,
                "highestContiguous", disk.highestContiguous(), "clean", disk.clean()));
        say(out, String.format("guest on host-b: ticks %s (source ended at %d, destination went on from %d to %d)",
                ticks ? "continued" : "DID NOT continue", sourceEnd.lastTick(), after.firstTick(), after.lastTick()));
        say(out, "vTPM: PCRs 0-7 " + (pcrs ? "identical before and after" : "DIFFER"));
        say(out, String.format("disk: %d records acknowledged, %d contiguous on the image, %d lost", lastWrote,
                disk.highestContiguous(), disk.lost()));
        return ticks && pcrs && disk.lost() == 0 && disk.clean();
    }

    private static Map<String, Object> outcome(MigrationReport report) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("result", report.result().wireName());
        o.put("downtimeMs", report.downtimeMs());
        o.put("qemuDowntimeMs", report.qemuDowntimeMs());
        o.put("totalMs", report.totalMs());
        o.put("phases", report.phases().stream().map(p -> Map.of("phase", p.phase(), "ms", p.durationMs())).toList());
        if (report.failure() != null) {
            o.put("failure", report.failure().describe());
        }
        return o;
    }

    /**
     * One of the demo's agents: its VMs may use the demo's directory (where the data disk is; the agents'
     * data directories under it stay theirs) and boot the test guest's kernel from the kit's cache.
     */
    private static Agent agent(Path root, Path boot, String host, int port, String peer, int peerPort, DemoPki pki)
            throws IOException, ConfigException {
        Path data = Files.createDirectories(root.resolve(host));
        Path config = data.resolve("agent.yaml");
        String scheme = pki == null ? "http" : "https";
        Files.writeString(config, String.join("\n", "host: " + host, "listen: 127.0.0.1", "port: " + port,
                "dataDir: " + data, "storage: [\"" + root + "\"]", "boot: [\"" + boot + "\"]",
                pki == null ? "" : "tls: {dir: \"" + pki.hostDir(host) + "\"}",
                "peers:", "  " + peer + ": " + scheme + "://127.0.0.1:" + peerPort, ""));
        return Agent.start(AgentConfig.load(config));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void say(PrintWriter out, String line) {
        out.println("ferry demo: " + line);
        out.flush();
    }
}
