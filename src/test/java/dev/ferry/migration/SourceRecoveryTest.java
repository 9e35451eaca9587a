package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.Mode;
import dev.ferry.device.ToolDialect;
import dev.ferry.device.ToolRunner;
import dev.ferry.device.ToolSpec;
import dev.ferry.lab.FakeClock;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source's branches after a restart, against a fake QEMU, a fake destination agent over
 * HTTP, and a device tool that writes down each recovery it is asked for.
 */
class SourceRecoveryTest {
    private static final Pattern RECOVERY = Pattern.compile("--device-id (\\S+) .*--last-good-step (\\S+)");

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();
    private final MemoryStore store = new MemoryStore();
    private final MemoryVms vms = new MemoryVms();
    private final ObjectMapper json = new ObjectMapper().findAndRegisterModules();
    private final ExecutorService io = Executors.newCachedThreadPool();
    private final ExecutorService steps = Executors.newCachedThreadPool();
    private final ScheduledThreadPoolExecutor retries = new ScheduledThreadPoolExecutor(1);
    private FakePeer peer;
    private FakeQemu qemu;
    private Path toolLog;
    private SourceRecovery recovery;

    @BeforeEach
    void setUp() throws Exception {
        peer = new FakePeer();
        toolLog = dir.resolve("tool.log");
        Path tool = dir.resolve("tool.sh");
        Files.writeString(tool, "#!/bin/sh\necho \"$*\" >> " + toolLog + "\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        DeviceControllers devices = new DeviceControllers(Map.of("external", ToolSpec.of(tool, ToolDialect.FERRY)),
                new ToolRunner(new ProcessRunner()));
        Peers peers = new Peers(Map.of("dst", peer.url()), json, clock, io);
        recovery = new SourceRecovery("src", vms, store, peers, devices, dir.resolve("kept"), clock, json, retries,
                steps);
    }

    @AfterEach
    void tearDown() {
        peer.close();
        if (qemu != null) {
            qemu.close();
        }
        io.shutdownNow();
        steps.shutdownNow();
        retries.shutdownNow();
    }

    private static VmSpec spec() {
        List<DeviceSpec> devices = new ArrayList<>();
        for (String id : List.of("d0", "d1", "d2")) {
            devices.add(new DeviceSpec.External(id, "dongle", Map.of()));
        }
        return new VmSpec("web1", UUID.nameUUIDFromBytes("web1".getBytes(StandardCharsets.UTF_8)), 64, 1,
                VmSpec.DEFAULT_MACHINE, null, devices);
    }

    /** web1 recorded as migrating here, its QEMU alive and paused mid-migration. */
    private void vmMigratingHere(String qemuMigration) throws Exception {
        qemu = new FakeQemu("web1", dir, false);
        qemu.migration = qemuMigration;
        vms.with(spec(), VmState.MIGRATING, qemu);
    }

    /** A source migration of web1 to dst, journaled from CHECK (saying whether the guest ran) through {@code to}. */
    private Journal migration(Mode mode, boolean guestWasRunning, Phase... to) {
        store.saveMigration(new MigrationRecord("m1", "web1", Role.SOURCE, "dst", mode, null, null, clock.instant(),
                clock.instant()));
        Journal journal = new Journal(store, "m1", "web1", Role.SOURCE, "dst", clock);
        journal.enterCheck(guestWasRunning);
        for (Phase p : to) {
            journal.enter(p, "");
        }
        return journal;
    }

    /** The history row of a live migration of web1 and nothing else: the agent died before CHECK was journaled. */
    private void historyRowOnly() {
        store.saveMigration(new MigrationRecord("m1", "web1", Role.SOURCE, "dst", Mode.LIVE, null, null,
                clock.instant(), clock.instant()));
    }

    private static void step(Journal journal, String device, JournalStep step, JournalEvent... events) {
        for (JournalEvent e : events) {
            journal.device(device, step, e, "");
        }
    }

    /** The recoveries the device tool was asked for, in order, as {@code device last-good-step}. */
    private List<String> recoveries() throws Exception {
        if (!Files.exists(toolLog)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(toolLog)) {
            Matcher m = RECOVERY.matcher(line);
            if (line.startsWith("--step recover") && m.find()) {
                out.add(m.group(1) + " " + m.group(2));
            }
        }
        return out;
    }

    private MigrationRecord record() {
        return store.findMigration("m1").orElseThrow();
    }

    private MigrationReport report() throws Exception {
        return json.readValue(record().reportJson(), MigrationReport.class);
    }

    @Test
    void recoverAtStart_vmNoLongerHere_completesWithoutAskingAnyone() {
        migration(Mode.LIVE, true, Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY, Phase.POST_SUSPEND, Phase.SYNC,
                Phase.SWITCHOVER);

        recovery.recoverAtStart();

        assertThat(record().result()).isEqualTo(Result.COMPLETED);
        assertThat(store.journal("m1").get(store.journal("m1").size() - 1).event()).isEqualTo(JournalEvent.RECOVERED);
        assertThat(peer.calls).isEmpty();
    }

    @Test
    void recoverAtStart_migrationAtCheck_rollsBackHereWithoutAskingTheDestination() throws Exception {
        vmMigratingHere("none");
        migration(Mode.LIVE, false);

        recovery.recoverAtStart();

        assertThat(record().result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(peer.calls).isEmpty();
        assertThat(recoveries()).isEmpty();
        assertThat(qemu.commands).doesNotContain("cont", "migrate_cancel");
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(store.phases("m1")).containsExactly(Phase.CHECK, Phase.ROLLING_BACK);
    }

    /**
     * Crash run seed -7852212672467107673: the destination agent died during CHECK, the source
     * journaled REFUSED, moved the VM back to running, and was SIGKILLed before the history got the
     * result. Recovery used to roll back again, fail to move a running VM to running, and retry forever.
     */
    @Test
    void recoverAtStart_diedAfterTheFinalPhaseWasJournaled_recordsThatResultAndUndoesNothing() throws Exception {
        qemu = new FakeQemu("web1", dir, true);
        vms.with(spec(), VmState.RUNNING, qemu);
        migration(Mode.LIVE, true, Phase.REFUSED);

        recovery.recoverAtStart();

        assertThat(record().result()).isEqualTo(Result.REFUSED);
        assertThat(report().notes()).anySatisfy(n -> assertThat(n).contains("had ended refused"));
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(qemu.commands).doesNotContain("cont", "migrate_cancel");
        assertThat(peer.calls).isEmpty();
        assertThat(recoveries()).isEmpty();
        assertThat(store.journal("m1").get(store.journal("m1").size() - 1).event()).isEqualTo(JournalEvent.RECOVERED);
    }

    @Test
    void recoverAtStart_diedAfterRolledBackWasJournaled_recordsTheVmAsQemuHasIt() throws Exception {
        vmMigratingHere("cancelled");
        migration(Mode.LIVE, false, Phase.PREPARE, Phase.ROLLING_BACK, Phase.ROLLED_BACK);

        recovery.recoverAtStart();

        assertThat(record().result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(peer.calls).isEmpty();
        assertThat(recoveries()).isEmpty();
    }

    @Test
    void recoverAtStart_diedBeforeCheckWasJournaled_leavesAPausedGuestPaused() throws Exception {
        vmMigratingHere("none");
        historyRowOnly();

        recovery.recoverAtStart();

        assertThat(qemu.commands).doesNotContain("cont");
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(record().result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(peer.calls).isEmpty();
    }

    @Test
    void recoverAtStart_diedBeforeCheckWasJournaled_recordsARunningGuestRunning() throws Exception {
        vmMigratingHere("none");
        qemu.running = true;
        historyRowOnly();

        recovery.recoverAtStart();

        assertThat(qemu.commands).doesNotContain("cont");
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(record().result()).isEqualTo(Result.ROLLED_BACK);
    }

    @Test
    void recoverAtStart_saveThatGotFar_rollsBackHereCancellingQemuAndResumingTheGuest() throws Exception {
        vmMigratingHere("active");
        Journal journal = migration(Mode.SAVE, true, Phase.PREPARE, Phase.PRE_SUSPEND);
        step(journal, "d0", JournalStep.PRE_SUSPEND, JournalEvent.START, JournalEvent.OK);
        journal.enter(Phase.RAM_COPY, "");

        recovery.recoverAtStart();

        assertThat(record().result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(peer.calls).isEmpty();
        assertThat(recoveries()).containsExactly("d0 pre-suspend");
        assertThat(qemu.commands).containsSubsequence("migrate_cancel", "cont");
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
    }

    @Test
    void recoverAtStart_destinationOwnsTheVm_quitsTheCopyHereKeepsItsLogAndForgetsIt() throws Exception {
        vmMigratingHere("completed");
        migration(Mode.LIVE, true, Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY, Phase.POST_SUSPEND, Phase.SYNC,
                Phase.SWITCHOVER);
        peer.answer("ownership", 200, "{\"ownership\": \"OWNED\"}");

        recovery.recoverAtStart();

        assertThat(qemu.destroyed).isTrue();
        assertThat(vms.defined("web1")).isFalse();
        assertThat(dir.resolve("kept/web1.m1.serial.log")).hasContent("Linux version 6.1 booted");
        assertThat(record().result()).isEqualTo(Result.COMPLETED);
        assertThat(peer.steps()).containsExactly("ownership");
        assertThat(recoveries()).isEmpty();
        assertThat(qemu.commands).doesNotContain("cont");
    }

    @Test
    void recoverAtStart_notTaken_recoversExactlyTheStartedDevicesNewestFirstAbortsAndResumes() throws Exception {
        vmMigratingHere("pre-switchover");
        Journal journal = migration(Mode.LIVE, true, Phase.PREPARE, Phase.PRE_SUSPEND);
        step(journal, "d0", JournalStep.PRE_SUSPEND, JournalEvent.START, JournalEvent.OK);
        step(journal, "d1", JournalStep.PRE_SUSPEND, JournalEvent.START, JournalEvent.OK);
        step(journal, "d2", JournalStep.PRE_SUSPEND, JournalEvent.START, JournalEvent.OK);
        journal.enter(Phase.RAM_COPY, "");
        journal.enter(Phase.POST_SUSPEND, "");
        step(journal, "d0", JournalStep.POST_SUSPEND, JournalEvent.START);
        step(journal, "d1", JournalStep.POST_SUSPEND, JournalEvent.START);
        step(journal, "d2", JournalStep.POST_SUSPEND, JournalEvent.START);
        step(journal, "d0", JournalStep.POST_SUSPEND, JournalEvent.OK);
        step(journal, "d2", JournalStep.POST_SUSPEND, JournalEvent.OK);
        peer.answer("ownership", 200, "{\"ownership\": \"PREPARED\"}");

        recovery.recoverAtStart();

        assertThat(recoveries()).containsExactly("d2 post-suspend", "d1 pre-suspend", "d0 post-suspend");
        assertThat(peer.steps()).containsExactly("ownership", "abort");
        assertThat(qemu.commands).containsSubsequence("migrate_cancel", "cont");
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(record().result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(store.phases("m1")).endsWith(Phase.POST_SUSPEND, Phase.ROLLING_BACK);
    }

    @Test
    void recoverAtStart_preparedButTheAbortIsRefused_afterTheSwitchoverWasAsked_neverResumesAndAsksAgain()
            throws Exception {
        // The model's counterexample: the switchover request arrived after "prepared" was answered.
        vmMigratingHere("completed");
        migration(Mode.LIVE, true, Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY, Phase.POST_SUSPEND, Phase.SYNC,
                Phase.SWITCHOVER);
        peer.answer("ownership", 200, "{\"ownership\": \"PREPARED\"}");
        peer.answer("abort", 409, "{\"error\": {\"code\": \"conflict\", \"message\":"
                + " \"migration m1: the VM already belongs to this host\"}}");

        recovery.recoverAtStart();

        assertThat(peer.steps()).containsExactly("ownership", "abort");
        assertThat(qemu.commands).doesNotContain("cont");
        assertThat(qemu.destroyed).isFalse();
        assertThat(record().result()).as("not ended").isNull();
        assertThat(store.journal("m1").get(store.journal("m1").size() - 1).ownerUnknown()).isTrue();
        assertThat(retries.getQueue()).hasSize(1);

        // Asked again, the destination says it owns the VM: the copy here goes.
        peer.answer("ownership", 200, "{\"ownership\": \"OWNED\"}");
        recovery.recoverAtStart();

        assertThat(qemu.commands).doesNotContain("cont");
        assertThat(qemu.destroyed).isTrue();
        assertThat(vms.defined("web1")).isFalse();
        assertThat(record().result()).isEqualTo(Result.COMPLETED);
    }

    @Test
    void recoverAtStart_notTakenAfterPreSuspendStopped_recoversOnlyTheDevicesThatStarted() throws Exception {
        vmMigratingHere("none");
        Journal journal = migration(Mode.LIVE, true, Phase.PREPARE, Phase.PRE_SUSPEND);
        step(journal, "d0", JournalStep.PRE_SUSPEND, JournalEvent.START, JournalEvent.OK);
        step(journal, "d1", JournalStep.PRE_SUSPEND, JournalEvent.START);
        peer.answer("ownership", 200, "{\"ownership\": \"UNKNOWN\"}");

        recovery.recoverAtStart();

        assertThat(recoveries()).containsExactly("d1 check", "d0 pre-suspend");
        assertThat(record().result()).isEqualTo(Result.ROLLED_BACK);
    }

    @Test
    void recoverAtStart_notTakenOfAGuestPausedBeforeTheMigration_leavesItPaused() throws Exception {
        vmMigratingHere("pre-switchover");
        migration(Mode.LIVE, false, Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY);
        peer.answer("ownership", 200, "{\"ownership\": \"ABORTED\"}");

        recovery.recoverAtStart();

        assertThat(qemu.commands).contains("migrate_cancel").doesNotContain("cont");
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(record().result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report().notes()).contains("the guest was paused before the migration and stays paused");
    }

    @Test
    void recoverAtStart_destinationUnreachable_changesNothingAndAsksAgainLater() throws Exception {
        vmMigratingHere("completed");
        migration(Mode.LIVE, true, Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY, Phase.POST_SUSPEND, Phase.SYNC,
                Phase.SWITCHOVER);
        int entries = store.journal("m1").size();
        peer.close();

        recovery.recoverAtStart();

        assertThat(record().result()).isNull();
        assertThat(store.journal("m1")).hasSize(entries);
        assertThat(vms.state("web1")).isEqualTo(VmState.MIGRATING);
        assertThat(qemu.destroyed).isFalse();
        assertThat(qemu.commands).isEmpty();
        assertThat(recoveries()).isEmpty();
        assertThat(vms.leases).isEmpty();
        assertThat(retries.getQueue()).hasSize(1);
    }
}
