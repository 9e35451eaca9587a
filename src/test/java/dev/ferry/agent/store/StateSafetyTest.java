package dev.ferry.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.device.Mode;
import dev.ferry.migration.JournalEntry;
import dev.ferry.migration.JournalEvent;
import dev.ferry.migration.JournalStep;
import dev.ferry.migration.MigrationRecord;
import dev.ferry.migration.Phase;
import dev.ferry.migration.Result;
import dev.ferry.migration.Role;
import dev.ferry.vm.VmState;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state database's defences: its reserve of disk space, its soundness check at open, its backups and their restore. */
class StateSafetyTest {
    private static final Instant T0 = Instant.parse("2030-01-01T12:00:00Z");

    @TempDir
    Path dir;
    private Path db;

    @BeforeEach
    void setUp() {
        db = dir.resolve("data/ferry.db");
    }

    private static VmRecord vm(String name) {
        return new VmRecord(name, "uuid-" + name, "name: " + name + "\n", "/specs", VmState.RUNNING, T0);
    }

    /** A store with a few VMs and a finished migration, closed (so its WAL is checkpointed into the file). */
    private void aStoreWithHistory() {
        try (StateStore store = StateStore.open(db)) {
            for (int i = 0; i < 20; i++) {
                store.insertVm(vm("vm" + i));
            }
            store.saveMigration(new MigrationRecord("m1", "vm1", Role.SOURCE, "node2", Mode.LIVE, Result.COMPLETED, "{}",
                    T0, T0));
        }
    }

    @Test
    void open_holdsTheReserveBesideTheDatabase() throws Exception {
        try (StateStore ignored = StateStore.open(db)) {
            Path reserve = StateStore.reserveFile(db);
            assertThat(reserve).isRegularFile();
            assertThat(Files.size(reserve)).isEqualTo(StateStore.RESERVE_BYTES);
        }
    }

    @Test
    void aSpentReserve_isWrittenAgainBeforeTheNextWriteThatIsNotATeardowns() throws Exception {
        try (StateStore store = StateStore.open(db)) {
            Files.delete(StateStore.reserveFile(db));

            store.appendJournal(entry("m1", Phase.ROLLED_BACK, null, null, JournalEvent.ENTER));
            assertThat(StateStore.reserveFile(db)).as("a teardown's record does not wait for it").doesNotExist();

            store.appendJournal(entry("m2", Phase.PREPARE, null, null, JournalEvent.ENTER));
            assertThat(Files.size(StateStore.reserveFile(db))).isEqualTo(StateStore.RESERVE_BYTES);
        }
    }

    @Test
    void aRollbacksRecords_fitTheReserveFourTimesOver() throws Exception {
        try (StateStore store = StateStore.open(db)) {
            long before = databaseBytes();
            // A destination's abort of a migration with many devices: rolling-back, each device's recover, the end.
            store.saveMigration(new MigrationRecord("m9", "web1", Role.DESTINATION, "node1", Mode.LIVE, null, null, T0, T0));
            store.appendJournal(entry("m9", Phase.ROLLING_BACK, null, null, JournalEvent.ENTER));
            for (int d = 0; d < 16; d++) {
                store.appendJournal(entry("m9", Phase.ROLLING_BACK, "disk" + d, JournalStep.RECOVER, JournalEvent.START));
                store.appendJournal(entry("m9", Phase.ROLLING_BACK, "disk" + d, JournalStep.RECOVER, JournalEvent.RECOVERED));
            }
            store.appendJournal(entry("m9", Phase.ROLLED_BACK, null, null, JournalEvent.ENTER));
            long grew = databaseBytes() - before;

            System.out.printf("a rollback with 16 devices grew the state database by %d bytes (reserve %d)%n", grew,
                    StateStore.RESERVE_BYTES);
            assertThat(grew).as("bytes a rollback's records take").isLessThan(StateStore.RESERVE_BYTES / 4);
        }
    }

    @Test
    void open_garbageInTheMiddle_isRefusedNamingTheDamageAndTheRepair() throws Exception {
        aStoreWithHistory();
        long size = Files.size(db);
        byte[] garbage = new byte[4096];
        new Random(7).nextBytes(garbage);
        try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
            f.seek(size / 2 / 4096 * 4096);
            f.write(garbage);
        }

        assertThatThrownBy(() -> StateStore.open(db)).isInstanceOf(StateStoreException.class)
                .hasMessageContaining("the state database " + db + " is damaged")
                .hasMessageContaining("touched no VM")
                .hasMessageContaining("ferry agent repair")
                .hasMessageContaining("ferry.db.backup-1");
    }

    @Test
    void open_truncatedFile_isRefused() throws Exception {
        aStoreWithHistory();
        try (FileChannel ch = FileChannel.open(db, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }

        assertThatThrownBy(() -> StateStore.open(db)).isInstanceOf(StateStoreException.class)
                .hasMessageContaining("is damaged");
    }

    @Test
    void open_aFileThatIsNoDatabase_isRefused() throws Exception {
        Files.createDirectories(db.getParent());
        Files.writeString(db, "this is not a database, just text that happens to sit where one should\n".repeat(100));

        assertThatThrownBy(() -> StateStore.open(db)).isInstanceOf(StateStoreException.class)
                .hasMessageContaining("is damaged").hasMessageContaining("none is kept yet");
    }

    @Test
    void cleanPoints_writeSoundBackups_andKeepTwo() {
        StateBackups backups = new StateBackups(db);
        try (StateStore store = StateStore.open(db)) {
            store.insertVm(vm("a"));
            assertThat(backups.existing()).containsExactly(backups.backup(1));
            store.insertVm(vm("b"));
            store.deleteVm("a");
        }

        assertThat(backups.existing()).containsExactly(backups.backup(1), backups.backup(2));
        assertThat(StateBackups.damageOf(backups.backup(1))).isEmpty();
        assertThat(db.resolveSibling("ferry.db.backup-new")).doesNotExist();
        try (StateStore newest = StateStore.open(backups.backup(1))) {
            assertThat(newest.listVms()).extracting(VmRecord::name).containsExactly("b");
        }
    }

    @Test
    void restore_damagedDatabase_isKeptAside_andTheNewestSoundBackupTakesItsPlace() throws Exception {
        aStoreWithHistory();
        StateBackups backups = new StateBackups(db);
        Files.write(backups.backup(1), new byte[8192]);
        Files.writeString(db, "garbage");

        StateRepair.Outcome outcome = StateRepair.restore(db, T0);

        assertThat(outcome.damage()).isNotBlank();
        assertThat(outcome.keptAs()).hasFileName("ferry.db.damaged-20300101-120000");
        assertThat(Files.readString(outcome.keptAs())).isEqualTo("garbage");
        assertThat(outcome.unsound()).singleElement().asString().startsWith("ferry.db.backup-1: ");
        assertThat(outcome.restoredFrom()).isEqualTo(backups.backup(2));
        try (StateStore store = StateStore.open(db)) {
            assertThat(store.listVms()).as("backup-2 was written after the last VM was defined").hasSize(20);
            assertThat(store.listMigrations()).as("and before the migration ended").isEmpty();
        }
    }

    @Test
    void restore_soundDatabase_isLeftAsItIs() throws Exception {
        aStoreWithHistory();
        byte[] before = Files.readAllBytes(db);

        StateRepair.Outcome outcome = StateRepair.restore(db, T0);

        assertThat(outcome.untouched()).isTrue();
        assertThat(Files.readAllBytes(db)).isEqualTo(before);
    }

    @Test
    void restore_missingDatabaseWithoutBackups_leavesAnEmptyStart() {
        StateRepair.Outcome outcome = StateRepair.restore(db, T0);

        assertThat(outcome.restoredFrom()).isNull();
        assertThat(outcome.keptAs()).isNull();
        assertThat(db).doesNotExist();
    }

    private long databaseBytes() throws Exception {
        long total = 0;
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            Path p = db.resolveSibling(db.getFileName() + suffix);
            if (Files.exists(p)) {
                total += Files.size(p);
            }
        }
        return total;
    }

    private static JournalEntry entry(String id, Phase phase, String device, JournalStep step, JournalEvent event) {
        return new JournalEntry(id, "web1", Role.DESTINATION, "node1", phase, device, step, event, T0,
                "a detail of the length a real one has, naming the device and what happened to it", null, false);
    }

    @Test
    void restore_emptyDatabaseFile_countsAsMissing_andTheBackupTakesItsPlace() throws Exception {
        aStoreWithHistory();
        Files.write(db, new byte[0]);

        StateRepair.Outcome outcome = StateRepair.restore(db, T0);

        assertThat(outcome.restoredFrom()).isEqualTo(new StateBackups(db).backup(1));
        try (StateStore store = StateStore.open(db)) {
            assertThat(store.listVms()).hasSize(20);
        }
    }
}
