package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.api.RestoreRequest;
import dev.ferry.agent.api.SaveRequest;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.FakeTool;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration between two real agents with the real test guest. The guest is booted once for
 * the class and reused: each test first puts it where it needs it (booting it only when no copy
 * runs). Failures roll it back onto the source, where it must go on running. Its external device's
 * tool is the lab's fake tool.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MigrationIT {
    private static final String VM = "itvm";

    private final ProcessRunner runner = new ProcessRunner();
    private Lab lab;
    private Api onA;
    private Api onB;
    private Path disk;
    private Map<Integer, String> pcrsAtBoot;
    /** The highest disk record the guest said it wrote, on any host, in any test. */
    private long acknowledged;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        lab = Lab.in(root).fakeTool("fault", Map.of("sync", "2s")).start();
        onA = lab.api(Lab.A);
        onB = lab.api(Lab.B);
        disk = TestGuest.createDisk(root.resolve("data.qcow2"));
    }

    @BeforeEach
    void everyToolStepSucceeds() throws Exception {
        lab.tool().reset();
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void dryRun_listsPassthroughPciAndToollessExternalTpm_together_andStartsNothing() throws Exception {
        Path socket = lab.root().resolve("ext-tpm.sock");
        Files.deleteIfExists(socket);
        Files.createFile(socket);
        String blocked = """
                name: blocked
                memoryMiB: 64
                devices:
                  - {type: pci, id: gpu0, host: "0000:03:00.0"}
                  - {type: tpm, id: tpm9, backend: external, socket: "%s"}
                """.formatted(socket);
        onA.post("/v1/vms", new DefineVmRequest(blocked, lab.root().toString())).expect(201, "define vm 'blocked'");
        if (onB.vmState(VM).equals("running")) {
            guestRunsOn(Lab.A); // the destination must start out empty
        }
        onB.removeIfPresent(VM);
        lab.tool().reset(); // forgets the calls of the move above

        Api.Reply reply = onA.post("/v1/migrations", new MigrateRequest("blocked", Lab.B, true, null, null, null, null, null));

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
        assertThat(lab.tool().calls()).as("no tool ran: the blocked VM's devices refused before anything started").isEmpty();
    }

    @Test
    void toolFailingAtPostSuspend_rollsBack_andTheGuestGoesOnOnTheSource() throws Exception {
        guestRunsOn(Lab.A);
        lab.tool().failAt("post-suspend", "fpga bitstream transfer refused by peer");

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).isEqualTo("rolled-back");
        assertThat(report.failure().device()).isEqualTo("device 'fpga0' (external, fault)");
        assertThat(report.failure().step()).isEqualTo("post-suspend");
        assertThat(report.failure().message()).contains("fpga bitstream transfer refused by peer");
        assertThat(lab.tool().calls()).contains("--step recover").contains("--last-good-step pre-suspend");
        assertGuestRunsOnA();
        assertDestinationClean();
    }

    @Test
    void toolHangingPastItsTimeoutAtSync_rollsBack_andTheToolIsKilled() throws Exception {
        guestRunsOn(Lab.A);
        lab.tool().at("sync", "hang");

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).isEqualTo("rolled-back");
        assertThat(report.failure().device()).isEqualTo("device 'fpga0' (external, fault)");
        assertThat(report.failure().step()).isEqualTo("sync");
        assertThat(report.failure().message()).contains("did not finish sync within 2000 ms and was killed");
        assertGuestRunsOnA();
        assertDestinationClean();
        assertThat(runner.run(Command.of("pgrep", "-fx", FakeTool.HANG_COMMAND)).ok()).as("the hung tool's sleep is gone").isFalse();
    }

    @Test
    void cancelDuringPostSuspend_rollsBack_andTheGuestGoesOnOnTheSource() throws Exception {
        guestRunsOn(Lab.A);
        lab.tool().holdAt("post-suspend");
        String id = onA.startMigration(new MigrateRequest(VM, Lab.B, false, null, null, null, null, 60L));
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(60))).as("the migration got to post-suspend").isTrue();

        Api.Reply cancelled = onA.post("/v1/migrations/" + id + "/cancel", null);
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(1)).as(MigrationStatus.class);
        lab.tool().release();

        assertThat(cancelled.status()).isEqualTo(200);
        assertThat(done.report().result().wireName()).isEqualTo("rolled-back");
        assertThat(done.report().failure().message()).startsWith("cancelled by the operator during post-suspend");
        assertThat(lab.tool().calls()).contains("--step recover");
        assertGuestRunsOnA();
        assertDestinationClean();
    }

    @Test
    void ctrlCOnFerryMigrate_beforeTheSwitchover_cancelsIt_printsTheRollback_andExits130() throws Exception {
        guestRunsOn(Lab.A);
        lab.tool().holdAt("post-suspend");
        Path out = lab.root().resolve("migrate-interrupted.out");
        Process cli = new ProcessBuilder(lab.agent(Lab.A).ferryCommand("migrate", VM, "--to", Lab.B))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertThat(lab.tool().awaitHeld(Duration.ofSeconds(60))).as("the migration got to post-suspend").isTrue();
            await("without a terminal, a line per phase: post-suspend").atMost(Duration.ofSeconds(30))
                    .until(() -> Files.readString(out).contains("post-suspend"));

            assertThat(runner.run(Command.of("kill", "-INT", Long.toString(cli.pid()))).ok()).isTrue();
            assertThat(cli.waitFor(90, TimeUnit.SECONDS)).as("ferry migrate ends after Ctrl-C").isTrue();
        } finally {
            cli.destroyForcibly();
            lab.tool().release();
        }

        String printed = Files.readString(out);
        assertThat(cli.exitValue()).as("exit code of an interrupted migration; it printed:%n%s", printed).isEqualTo(130);
        assertThat(printed).contains("ferry: interrupted: cancelling migration")
                .contains(": rolled-back").contains("cancelled by the operator during post-suspend");
        Matcher id = Pattern.compile("cancelling migration (\\S+);").matcher(printed);
        assertThat(id.find()).isTrue();
        MigrationStatus last = onA.get("/v1/migrations/" + id.group(1)).as(MigrationStatus.class);
        assertThat(last.report().result().wireName()).isEqualTo("rolled-back");
        assertGuestRunsOnA();
        assertDestinationClean();
    }

    @Test
    void ferryMigrationSet_changesBandwidthAndDowntimeOfARunningMigration_andIsRefusedOnceItEnded() throws Exception {
        guestRunsOn(Lab.A);
        lab.tool().holdAt("pre-suspend");
        String id = onA.startMigration(new MigrateRequest(VM, Lab.B, false, null, 1L, null, null, 60L));
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(60))).as("the migration got to pre-suspend").isTrue();

        ProcResult set = lab.agent(Lab.A).ferry("migration", "set", id, "--bandwidth", "0", "--downtime-ms", "500");
        lab.tool().release();

        assertThat(set.ok()).as(set.describe() + " " + set.stderr().text()).isTrue();
        assertThat(set.stdout().text()).contains("migration " + id + " of vm '" + VM + "'", "bandwidth uncapped",
                "downtime limit 500 ms");
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);
        assertThat(done.report().result().wireName()).isEqualTo("completed");

        ProcResult late = lab.agent(Lab.A).ferry("migration", "set", id, "--bandwidth", "8");
        assertThat(late.exitCode()).isEqualTo(1);
        assertThat(late.stderr().text()).contains("migration '" + id + "' is not running: completed");
        guestRunsOn(Lab.A);
    }

    @Test
    void liveMigration_completes_guestTicksOn_pcrsEqual_noRecordLost_nothingLeftOnTheSource() throws Exception {
        guestRunsOn(Lab.A);
        long ticksBefore = GuestConsole.read(onA.serialLog(VM)).lastTick();

        MigrationReport report = migrateToB();

        assertThat(report.failure()).isNull();
        assertThat(report.result().wireName()).isEqualTo("completed");
        assertThat(report.downtimeMs()).isPositive();
        GuestConsole source = GuestConsole.read(keptSerialLog(Lab.A, report.id()));
        GuestConsole dest = GuestConsole.await(onB.serialLog(VM), c -> c.lastTick() > c.firstTick() + 10 && c.pcrs().size() == 8,
                Duration.ofSeconds(30));
        assertThat(source.lastTick()).isGreaterThan(ticksBefore);
        assertThat(dest.bootId()).as("the guest did not reboot").isNull();
        assertThat(dest.firstTick()).as("ticks go on where they stopped").isBetween(source.lastTick() + 1, source.lastTick() + 20);
        assertThat(dest.pcrs()).isEqualTo(pcrsAtBoot);
        assertThat(onA.get("/v1/vms/" + VM).status()).isEqualTo(404);
        assertThat(onB.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        try (Stream<Path> left = Files.list(lab.agent(Lab.A).runRoot())) {
            assertThat(left).as("nothing left in the source's run directory").isEmpty();
        }
        assertThat(dest.lastWrote()).isGreaterThan(source.lastWrote());
        acknowledged = Math.max(acknowledged, Math.max(source.lastWrote(), dest.lastWrote()));
    }

    @Test
    void pausedGuest_migrates_andStaysPausedOnTheDestination_untilResumedThere() throws Exception {
        guestRunsOn(Lab.A);
        assertThat(onA.post("/v1/vms/" + VM + "/pause", null).status()).isEqualTo(200);
        long tickWhenPaused = GuestConsole.read(onA.serialLog(VM)).lastTick();

        MigrationReport report = migrateToB();

        assertThat(report.failure()).isNull();
        assertThat(report.result().wireName()).isEqualTo("completed");
        assertThat(report.guestPaused()).isTrue();
        assertThat(report.notes()).anyMatch(n -> n.contains("stays paused on the destination"));
        assertThat(onB.vmState(VM)).isEqualTo("paused");
        GuestConsole source = GuestConsole.read(keptSerialLog(Lab.A, report.id()));
        assertThat(source.lastTick()).as("no tick on the source after the pause").isEqualTo(tickWhenPaused);
        assertThat(GuestConsole.read(onB.serialLog(VM)).lastTick()).as("no tick on the destination before a resume")
                .isZero();

        assertThat(onB.post("/v1/vms/" + VM + "/resume", null).status()).isEqualTo(200);

        GuestConsole dest = GuestConsole.await(onB.serialLog(VM),
                c -> c.lastTick() > c.firstTick() + 5 && c.pcrs().size() == 8, Duration.ofSeconds(30));
        assertThat(dest.bootId()).as("the guest did not reboot").isNull();
        assertThat(dest.firstTick()).as("ticks go on where the pause stopped them")
                .isBetween(tickWhenPaused + 1, tickWhenPaused + 2);
        assertThat(dest.pcrs()).isEqualTo(pcrsAtBoot);
        acknowledged = Math.max(acknowledged, dest.lastWrote());
    }

    @Test
    void saveAndRestore_bringTheGuestBackWithItsTpmState() throws Exception {
        guestRunsOn(Lab.B);
        Path file = lab.root().resolve("itvm.save");
        Files.deleteIfExists(file);
        long lastTickBeforeSave = GuestConsole.read(onB.serialLog(VM)).lastTick();

        Api.Reply saved = onB.post("/v1/vms/" + VM + "/save", new SaveRequest(file.toString()));
        MigrationStatus status = onB.awaitMigration(saved.as(MigrationStatus.class).id(), Duration.ofMinutes(2))
                .as(MigrationStatus.class);

        assertThat(status.report().failure()).isNull();
        assertThat(status.report().result().wireName()).isEqualTo("completed");
        assertThat(file).exists();
        assertThat(onB.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("stopped");

        Api.Reply restored = onB.post("/v1/restore", new RestoreRequest(file.toString()));

        assertThat(restored.status()).isEqualTo(200);
        assertThat(restored.body().path("state").asText()).isEqualTo("running");
        GuestConsole after = GuestConsole.await(onB.serialLog(VM), c -> c.pcrs().size() == 8 && c.lastTick() > c.firstTick() + 5,
                Duration.ofSeconds(30));
        assertThat(after.bootId()).as("restored, not rebooted").isNull();
        assertThat(after.firstTick()).isGreaterThan(lastTickBeforeSave);
        assertThat(after.pcrs()).isEqualTo(pcrsAtBoot);

        acknowledged = Math.max(acknowledged, after.lastWrote());
        onB.post("/v1/vms/" + VM + "/destroy", null);
        DiskReport report = DiskVerifier.verify(disk, runner);
        assertThat(report.clean()).as("no gap or corrupt record: %s", report).isTrue();
        assertThat(report.highestContiguous()).as("every acknowledged record is on the disk").isGreaterThanOrEqualTo(acknowledged);
    }

    /**
     * The guest running on {@code host}: left as it is when it runs there, migrated there when it
     * runs on the other host, booted there (from the same disk, writing on after its last record)
     * when it runs nowhere.
     */
    private void guestRunsOn(String host) throws Exception {
        Api here = lab.api(host);
        Api there = lab.api(lab.other(host));
        if (here.vmState(VM).equals("running")) {
            return;
        }
        if (there.vmState(VM).equals("running")) {
            String id = there.startMigration(new MigrateRequest(VM, host, false, null, null, null, null, 20L));
            MigrationStatus moved = there.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);
            assertThat(moved.report().result().wireName()).as("moving the guest to %s: %s", host, moved.report())
                    .isEqualTo("completed");
            return;
        }
        here.removeIfPresent(VM);
        there.removeIfPresent(VM);
        String spec = TestGuest.named(VM).disk(disk).external("fpga0", "fault").yaml();
        GuestConsole up = TestGuest.awaitBooted(lab.defineAndStart(host, VM, spec), true, 5);
        assertThat(up.pcrs().get(0)).as("PCR 0 is measured by the firmware").isNotEqualTo("0".repeat(64));
        pcrsAtBoot = up.pcrs();
    }

    private MigrationReport migrateToB() throws Exception {
        String id = onA.startMigration(new MigrateRequest(VM, Lab.B, false, null, null, null, null, 20L));
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);
        assertThat(done.running()).isFalse();
        return done.report();
    }

    /** The serial log a source keeps of a guest that left it. */
    private Path keptSerialLog(String host, String migrationId) {
        return lab.agent(host).dataDir().resolve("logs").resolve(VM + "." + migrationId + ".serial.log");
    }

    private void assertGuestRunsOnA() throws Exception {
        assertThat(onA.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        Path log = onA.serialLog(VM);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 10, Duration.ofSeconds(20));
        assertThat(later.lastTick()).as("the guest ticks again on the source").isGreaterThanOrEqualTo(tick + 10);
        acknowledged = Math.max(acknowledged, later.lastWrote());
    }

    private void assertDestinationClean() throws Exception {
        assertThat(onB.get("/v1/vms").body().path("vms")).isEmpty();
        Path run = lab.agent(Lab.B).runRoot();
        if (Files.exists(run)) {
            try (Stream<Path> left = Files.list(run)) {
                assertThat(left).as("nothing left in the destination's run directory").isEmpty();
            }
        }
        assertThat(lab.processesIn(run)).as("no process of the destination's").isEmpty();
    }
}
