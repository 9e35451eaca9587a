package dev.ferry.agent;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.api.RestoreRequest;
import dev.ferry.agent.api.SaveRequest;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.migration.MigrationStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.migration.MigrationReport;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.RunDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Live migration between two real agents with the real test guest. One guest serves every test,
 * in order: failures roll it back onto host A (where it must go on running), then it moves to B,
 * then it is saved and restored on B. Its external device's tool does what the control file says.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MigrationIT {
    private static final String VM = "itvm";
    private static final Duration GUEST_UP = Duration.ofSeconds(120);

    private final ProcessRunner runner = new ProcessRunner();
    private Path root;
    private Path control;
    private Path calls;
    private Path disk;
    private Agent a;
    private Agent b;
    private Api onA;
    private Api onB;
    private Map<Integer, String> pcrsAtBoot;

    @BeforeAll
    void bootTheGuestOnA() throws Exception {
        root = Files.createTempDirectory("ferry-migration-it");
        GuestArtifacts kit = GuestKit.inUserCache(runner).build();
        control = root.resolve("tool.control");
        calls = root.resolve("tool.calls");
        Path tool = root.resolve("fault-tool");
        Files.writeString(tool, """
                #!/bin/sh
                echo "$*" >> '%s'
                mode=$(cat '%s' 2>/dev/null)
                case "$mode:$2" in
                  fail-post-suspend:post-suspend) echo '{"error":"fpga bitstream transfer refused by peer"}'; exit 1;;
                  hang-sync:sync) sleep 60;;
                  hold-post-suspend:post-suspend) while [ "$(cat '%s')" = hold-post-suspend ]; do sleep 0.1; done;;
                esac
                exit 0
                """.formatted(calls, control, control));
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        a = agent("host-a", tool);
        b = agent("host-b", tool);
        onA = new Api(a.url());
        onB = new Api(b.url());
        disk = root.resolve("data.qcow2");
        assertThat(runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), "64M")).ok()).isTrue();
        String spec = """
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
                """.formatted(VM, kit.kernel(), kit.initramfs(), kit.kernelCmdline(), disk);
        assertThat(onA.post("/v1/vms", new DefineVmRequest(spec, root.toString())).status()).isEqualTo(201);
        assertThat(onA.post("/v1/vms/" + VM + "/start", null).status()).isEqualTo(200);
        GuestConsole up = GuestConsole.await(serialLog(onA), c -> c.pcrs().size() == 8 && c.lastWrote() >= 5, GUEST_UP);
        assertThat(up.pcrs()).as("PCRs at boot").hasSize(8);
        assertThat(up.pcrs().get(0)).as("PCR 0 is measured by the firmware").isNotEqualTo("0".repeat(64));
        pcrsAtBoot = up.pcrs();
    }

    @AfterAll
    void cleanUp() throws Exception {
        for (Api api : new Api[] {onA, onB}) {
            if (api != null) {
                api.post("/v1/vms/" + VM + "/destroy", null);
            }
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        assertNoProcessMentions(root);
        TestAgents.delete(root);
    }

    @Test
    @Order(1)
    void dryRun_listsPassthroughPciAndToollessExternalTpm_together_andStartsNothing() throws Exception {
        Path socket = Files.createFile(root.resolve("ext-tpm.sock"));
        String blocked = """
                name: blocked
                memoryMiB: 64
                devices:
                  - {type: pci, id: gpu0, host: "0000:03:00.0"}
                  - {type: tpm, id: tpm9, backend: external, socket: "%s"}
                """.formatted(socket);
        onA.post("/v1/vms", new DefineVmRequest(blocked, root.toString()));

        Api.Reply reply = onA.post("/v1/migrations", new MigrateRequest("blocked", "host-b", true, null, null, null, null, null));

        assertThat(reply.status()).isEqualTo(200);
        MigrationReport report = reply.as(MigrationStatus.class).report();
        assertThat(report.result().wireName()).isEqualTo("refused");
        assertThat(report.blockers()).extracting(MigrationReport.Blocker::describe).containsExactly(
                "source: device 'gpu0' (pci, passthrough) refuses migration: passthrough PCI device 0000:03:00.0 cannot"
                        + " migrate; set its policy to 'migration: unplug-replug' or configure a migration tool for pci",
                "source: device 'tpm9' (tpm, external) refuses migration: no migration tool is configured for tpm");
        assertThat(onB.get("/v1/vms").body().path("vms")).isEmpty();
        assertDestinationClean();
        assertThat(onA.get("/v1/vms/blocked").body().path("state").asText()).isEqualTo("defined");
        onA.post("/v1/vms/blocked/destroy", null);
        assertThat(calls).as("no tool ran: the blocked VM's devices refused before anything started").doesNotExist();
    }

    @Test
    @Order(2)
    void toolFailingAtPostSuspend_rollsBack_andTheGuestGoesOnOnTheSource() throws Exception {
        Files.writeString(control, "fail-post-suspend");

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).isEqualTo("rolled-back");
        assertThat(report.failure().device()).isEqualTo("device 'fpga0' (external, fault)");
        assertThat(report.failure().step()).isEqualTo("post-suspend");
        assertThat(report.failure().message()).contains("fpga bitstream transfer refused by peer");
        assertThat(Files.readString(calls)).contains("--step recover").contains("--last-good-step pre-suspend");
        assertGuestRunsOnA();
        assertDestinationClean();
    }

    @Test
    @Order(3)
    void toolHangingPastItsTimeoutAtSync_rollsBack_andTheToolIsKilled() throws Exception {
        Files.writeString(control, "hang-sync");

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).isEqualTo("rolled-back");
        assertThat(report.failure().device()).isEqualTo("device 'fpga0' (external, fault)");
        assertThat(report.failure().step()).isEqualTo("sync");
        assertThat(report.failure().message()).contains("did not finish sync within 2000 ms and was killed");
        assertGuestRunsOnA();
        assertDestinationClean();
        assertThat(runner.run(Command.of("pgrep", "-f", "sleep 60")).ok()).as("the hung tool's sleep is gone").isFalse();
    }

    @Test
    @Order(4)
    void cancelDuringPostSuspend_rollsBack_andTheGuestGoesOnOnTheSource() throws Exception {
        Files.writeString(control, "hold-post-suspend");
        Files.deleteIfExists(calls);
        Api.Reply started = onA.post("/v1/migrations", new MigrateRequest(VM, "host-b", false, null, null, null, null, 60L));
        String id = started.as(MigrationStatus.class).id();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> Files.exists(calls) && Files.readString(calls).contains("--step post-suspend"));

        Api.Reply cancelled = onA.post("/v1/migrations/" + id + "/cancel", null);
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(1));
        Files.writeString(control, "ok");

        assertThat(cancelled.status()).isEqualTo(200);
        assertThat(done.report().result().wireName()).isEqualTo("rolled-back");
        assertThat(done.report().failure().message()).startsWith("cancelled by the operator during post-suspend");
        assertThat(Files.readString(calls)).contains("--step recover");
        assertGuestRunsOnA();
        assertDestinationClean();
    }

    @Test
    @Order(5)
    void liveMigration_completes_guestTicksOn_pcrsEqual_noRecordLost_nothingLeftOnTheSource() throws Exception {
        Files.writeString(control, "ok");
        long ticksBefore = GuestConsole.read(serialLog(onA)).lastTick();

        MigrationReport report = migrateToB();

        assertThat(report.failure()).isNull();
        assertThat(report.result().wireName()).isEqualTo("completed");
        assertThat(report.downtimeMs()).isPositive();
        GuestConsole source = GuestConsole.read(a.config().dataDir().resolve("logs").resolve(VM + "." + report.id() + ".serial.log"));
        GuestConsole dest = GuestConsole.await(serialLog(onB), c -> c.lastTick() > c.firstTick() + 10 && c.pcrs().size() == 8,
                Duration.ofSeconds(30));
        assertThat(source.lastTick()).isGreaterThan(ticksBefore);
        assertThat(dest.bootId()).as("the guest did not reboot").isNull();
        assertThat(dest.firstTick()).as("ticks go on where they stopped").isBetween(source.lastTick() + 1, source.lastTick() + 20);
        assertThat(dest.pcrs()).isEqualTo(pcrsAtBoot);
        assertThat(onA.get("/v1/vms/" + VM).status()).isEqualTo(404);
        assertThat(onB.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        try (Stream<Path> left = Files.list(a.config().runRoot())) {
            assertThat(left).as("nothing left in the source's run directory").isEmpty();
        }
        assertThat(dest.lastWrote()).isGreaterThan(source.lastWrote());
        lastAcknowledged = Math.max(source.lastWrote(), dest.lastWrote());
    }

    private long lastAcknowledged;

    @Test
    @Order(6)
    void saveAndRestore_bringTheGuestBackWithItsTpmState() throws Exception {
        Path file = root.resolve("itvm.save");
        long lastTickBeforeSave = GuestConsole.read(serialLog(onB)).lastTick();

        Api.Reply saved = onB.post("/v1/vms/" + VM + "/save", new SaveRequest(file.toString()));
        MigrationStatus status = onB.awaitMigration(saved.as(MigrationStatus.class).id(), Duration.ofMinutes(2));

        assertThat(status.report().failure()).isNull();
        assertThat(status.report().result().wireName()).isEqualTo("completed");
        assertThat(file).exists();
        assertThat(onB.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("stopped");

        Api.Reply restored = onB.post("/v1/restore", new RestoreRequest(file.toString()));

        assertThat(restored.status()).isEqualTo(200);
        assertThat(restored.body().path("state").asText()).isEqualTo("running");
        GuestConsole after = GuestConsole.await(serialLog(onB), c -> c.pcrs().size() == 8 && c.lastTick() > c.firstTick() + 5,
                Duration.ofSeconds(30));
        assertThat(after.bootId()).as("restored, not rebooted").isNull();
        assertThat(after.firstTick()).isGreaterThan(lastTickBeforeSave);
        assertThat(after.pcrs()).isEqualTo(pcrsAtBoot);

        long acknowledged = Math.max(lastAcknowledged, after.lastWrote());
        onB.post("/v1/vms/" + VM + "/destroy", null);
        DiskReport disk = DiskVerifier.verify(this.disk, runner);
        assertThat(disk.clean()).as("no gap or corrupt record: %s", disk).isTrue();
        assertThat(disk.highestContiguous()).as("every acknowledged record is on the disk").isGreaterThanOrEqualTo(acknowledged);
    }

    private MigrationReport migrateToB() throws IOException, InterruptedException {
        Api.Reply started = onA.post("/v1/migrations", new MigrateRequest(VM, "host-b", false, null, null, null, null, 20L));
        assertThat(started.status()).as("%s", started.body()).isEqualTo(202);
        MigrationStatus done = onA.awaitMigration(started.as(MigrationStatus.class).id(), Duration.ofMinutes(3));
        assertThat(done.running()).isFalse();
        return done.report();
    }

    private void assertGuestRunsOnA() throws Exception {
        assertThat(onA.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        long tick = GuestConsole.read(serialLog(onA)).lastTick();
        GuestConsole later = GuestConsole.await(serialLog(onA), c -> c.lastTick() >= tick + 10, Duration.ofSeconds(20));
        assertThat(later.lastTick()).as("the guest ticks again on the source").isGreaterThanOrEqualTo(tick + 10);
    }

    private void assertDestinationClean() throws Exception {
        assertThat(onB.get("/v1/vms").body().path("vms")).isEmpty();
        Path run = b.config().runRoot();
        if (Files.exists(run)) {
            try (Stream<Path> left = Files.list(run)) {
                assertThat(left).as("nothing left in the destination's run directory").isEmpty();
            }
        }
        ProcResult qemus = runner.run(Command.of("pgrep", "-f", b.config().runRoot().toString()));
        assertThat(qemus.ok()).as("no process of the destination's: %s", qemus.stdout().text()).isFalse();
    }

    private Path serialLog(Api api) throws Exception {
        return new RunDir(Path.of(api.get("/v1/vms/" + VM).body().path("runDir").asText())).serialLog();
    }

    private Agent agent(String host, Path tool) throws Exception {
        Path data = Files.createDirectories(root.resolve(host));
        Path config = data.resolve("agent.yaml");
        String peer = host.equals("host-a") ? "host-b" : "host-a";
        int peerPort = host.equals("host-a") ? portB : portA;
        Files.writeString(config, String.join("\n", "host: " + host, "port: " + (host.equals("host-a") ? portA : portB),
                "dataDir: " + data, "peers:", "  " + peer + ": http://127.0.0.1:" + peerPort,
                "tools:", "  fault:", "    path: " + tool, "    timeouts: {sync: 2s}", ""));
        return Agent.start(AgentConfig.load(config));
    }

    private final int portA = freePort();
    private final int portB = freePort();

    private static int freePort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void assertNoProcessMentions(Path dir) throws Exception {
        ProcResult r = runner.run(Command.of("pgrep", "-af", dir.toString()));
        assertThat(r.ok()).as("processes left behind: %s", r.stdout().text()).isFalse();
    }
}
