package dev.ferry.migration;

import static dev.ferry.migration.IncomingMigrationsTest.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.device.Mode;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.device.disk.ImageStore;
import dev.ferry.lab.FakeClock;
import dev.ferry.migration.PeerProtocol.Ownership;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DestinationRecoveryTest {
    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();
    private final MemoryStore store = new MemoryStore();
    private final MemoryVms vms = new MemoryVms();
    private RecordingVmHost runtime;
    private Path images;

    @BeforeEach
    void setUp() {
        runtime = new RecordingVmHost(dir);
        images = dir.resolve("images");
    }

    @AfterEach
    void tearDown() {
        runtime.close();
    }

    private void recover() {
        new DestinationRecovery(runtime, vms, store, new ImageStore(new DiskImages(new ProcessRunner()), images,
                "127.0.0.1"), clock).recoverAtStart();
    }

    /** An incoming migration of web1 the agent was in the middle of when it stopped, journaled up to PREPARE. */
    private Journal incoming(String id, boolean guestRunning) {
        store.saveMigration(new MigrationRecord(id, "web1", Role.DESTINATION, "node1", Mode.LIVE, null, null,
                clock.instant(), clock.instant()));
        Journal journal = new Journal(store, id, "web1", Role.DESTINATION, "node1", clock);
        journal.enterPrepare(guestRunning, "incoming from node1");
        return journal;
    }

    /** ... and taken: ownership journaled and the VM recorded here, its QEMU alive and paused. */
    private FakeQemu owned(String id, boolean guestRunning) throws Exception {
        incoming(id, guestRunning).enter(Phase.SWITCHOVER, "ownership recorded");
        FakeQemu qemu = runtime.leftOver("web1");
        vms.with(spec("web1"), VmState.MIGRATING, qemu);
        return qemu;
    }

    private JournalEntry lastEntry(String id) {
        List<JournalEntry> journal = store.journal(id);
        return journal.get(journal.size() - 1);
    }

    private Result result(String id) {
        return store.findMigration(id).orElseThrow().result();
    }

    @Test
    void recoverAtStart_ownedAndResumes_completesWithTheGuestRunning() throws Exception {
        FakeQemu qemu = owned("m1", true);

        recover();

        assertThat(qemu.running).isTrue();
        assertThat(vms.state("web1")).isEqualTo(VmState.RUNNING);
        assertThat(result("m1")).isEqualTo(Result.COMPLETED);
        assertThat(lastEntry("m1").event()).isEqualTo(JournalEvent.RECOVERED);
        assertThat(lastEntry("m1").phase()).isEqualTo(Phase.COMPLETED);
    }

    @Test
    void recoverAtStart_ownedButResumeFails_endsFailedNeverRolledBack_andTheVmStaysOwnedHere() throws Exception {
        FakeQemu qemu = owned("m1", true);
        qemu.resumeFailure = new VmException("vm 'web1': cont failed");

        recover();

        assertThat(result("m1")).isEqualTo(Result.FAILED);
        assertThat(lastEntry("m1").phase()).isEqualTo(Phase.FAILED);
        assertThat(store.journal("m1")).extracting(JournalEntry::phase).doesNotContain(Phase.ROLLED_BACK);
        assertThat(lastEntry("m1").detail()).contains("did not resume").contains("ferry vm resume web1");
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(qemu.destroyed).isFalse();
        assertThat(OwnershipHistory.recorded(store, vms, "m1")).isEqualTo(Ownership.OWNED);
    }

    @Test
    void recoverAtStart_ownedAndPausedOnTheSource_staysPausedAndCompletes() throws Exception {
        FakeQemu qemu = owned("m1", false);

        recover();

        assertThat(qemu.running).isFalse();
        assertThat(vms.state("web1")).isEqualTo(VmState.PAUSED);
        assertThat(result("m1")).isEqualTo(Result.COMPLETED);
        assertThat(lastEntry("m1").detail()).contains("paused on the source");
    }

    @Test
    void recoverAtStart_ownedButQemuGone_endsFailedWithTheVmCrashedHere() throws Exception {
        FakeQemu qemu = owned("m1", true);
        qemu.alive = false;

        recover();

        assertThat(result("m1")).isEqualTo(Result.FAILED);
        assertThat(lastEntry("m1").phase()).isEqualTo(Phase.FAILED);
        assertThat(vms.state("web1")).isEqualTo(VmState.CRASHED);
    }

    @Test
    void recoverAtStart_notTakenWithQemuLeft_destroysItRemovesTheCopiesAndRollsBack() throws Exception {
        incoming("m1", true);
        FakeQemu qemu = runtime.leftOver("web1");
        Path copy = Files.createDirectories(images.resolve("web1")).resolve("disk0.qcow2");
        Files.writeString(copy, "half a disk");

        recover();

        assertThat(qemu.destroyed).isTrue();
        assertThat(images.resolve("web1")).doesNotExist();
        assertThat(result("m1")).isEqualTo(Result.ROLLED_BACK);
        assertThat(lastEntry("m1").phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(lastEntry("m1").event()).isEqualTo(JournalEvent.RECOVERED);
        assertThat(OwnershipHistory.recorded(store, vms, "m1")).isEqualTo(Ownership.ABORTED);
    }

    @Test
    void recoverAtStart_notTakenAndQemuGone_cleansUpWhatItLeft() {
        incoming("m1", true);

        recover();

        assertThat(runtime.cleanedUp).containsExactly("web1");
        assertThat(result("m1")).isEqualTo(Result.ROLLED_BACK);
    }

    @Test
    void recoverAtStart_switchoverJournaledButVmNotRecordedHere_isNotOwnedAndRollsBack() throws Exception {
        incoming("m1", true).enter(Phase.SWITCHOVER, "ownership recorded");
        FakeQemu qemu = runtime.leftOver("web1");

        recover();

        assertThat(qemu.destroyed).isTrue();
        assertThat(result("m1")).isEqualTo(Result.ROLLED_BACK);
    }

    @Test
    void recoverAtStart_leavesEndedAndSourceMigrationsAlone() {
        store.saveMigration(new MigrationRecord("m1", "web1", Role.DESTINATION, "node1", Mode.LIVE, Result.COMPLETED,
                null, clock.instant(), clock.instant()));
        store.saveMigration(new MigrationRecord("m2", "web2", Role.SOURCE, "node2", Mode.LIVE, null, null,
                clock.instant(), clock.instant()));

        recover();

        assertThat(store.entries).isEmpty();
        assertThat(runtime.cleanedUp).isEmpty();
        assertThat(result("m2")).isNull();
    }
}
