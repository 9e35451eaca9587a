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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {
    private static final Instant T0 = Instant.parse("2030-01-01T12:00:00Z");

    @TempDir
    Path dir;
    private Path db;

    @BeforeEach
    void setUp() {
        db = dir.resolve("data/ferry.db");
    }


    private static VmRecord vm(String name, VmState state) {
        return new VmRecord(name, "uuid-" + name, "name: " + name + "\n", "/specs", state, T0);
    }

    @Test
    void open_emptyDatabase_appliesEveryMigrationInOrder() throws Exception {
        try (StateStore store = StateStore.open(db)) {
            assertThat(store.schemaVersion()).isEqualTo(SchemaMigration.ALL.size());
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
             Statement st = c.createStatement()) {
            ResultSet versions = st.executeQuery("SELECT version FROM schema_version ORDER BY version");
            for (int v = 1; v <= SchemaMigration.ALL.size(); v++) {
                assertThat(versions.next()).isTrue();
                assertThat(versions.getInt(1)).isEqualTo(v);
            }
            assertThat(versions.next()).isFalse();
            ResultSet mode = st.executeQuery("PRAGMA journal_mode");
            assertThat(mode.getString(1)).isEqualToIgnoringCase("wal");
        }
    }

    @Test
    void open_databaseAtVersion1_upgradesAndKeepsItsVms() {
        try (StateStore v1 = StateStore.open(db, SchemaMigration.ALL.subList(0, 1))) {
            assertThat(v1.schemaVersion()).isEqualTo(1);
            v1.insertVm(vm("web1", VmState.RUNNING));
        }

        try (StateStore store = StateStore.open(db)) {
            assertThat(store.schemaVersion()).isEqualTo(SchemaMigration.ALL.size());
            assertThat(store.findVm("web1")).contains(vm("web1", VmState.RUNNING));
            store.appendJournal(enter("m1", Phase.CHECK));
            assertThat(store.journal("m1")).hasSize(1);
        }
    }

    @Test
    void open_databaseFromANewerFerry_isRefusedUnchanged() {
        try (StateStore store = StateStore.open(db)) {
            store.insertVm(vm("web1", VmState.DEFINED));
        }
        assertThatThrownBy(() -> StateStore.open(db, SchemaMigration.ALL.subList(0, 1)))
                .isInstanceOf(StateStoreException.class)
                .hasMessageContaining("schema version " + SchemaMigration.ALL.size() + " but this agent knows only up to 1")
                .hasMessageContaining("newer ferry");
        try (StateStore store = StateStore.open(db)) {
            assertThat(store.listVms()).extracting(VmRecord::name).containsExactly("web1");
        }
    }

    @Test
    void open_failingMigration_leavesThePreviousVersion() {
        List<SchemaMigration> broken = List.of(SchemaMigration.ALL.get(0),
                new SchemaMigration(2, "broken", List.of("CREATE TABLE half (x INTEGER)", "THIS IS NOT SQL")));
        try (StateStore v1 = StateStore.open(db, SchemaMigration.ALL.subList(0, 1))) {
            v1.insertVm(vm("web1", VmState.DEFINED));
        }

        assertThatThrownBy(() -> StateStore.open(db, broken))
                .isInstanceOf(StateStoreException.class).hasMessageContaining("schema version 2");

        try (StateStore store = StateStore.open(db)) {
            assertThat(store.schemaVersion()).isEqualTo(SchemaMigration.ALL.size());
            assertThat(store.findVm("web1")).isPresent();
        }
    }

    @Test
    void writes_surviveReopening() {
        try (StateStore store = StateStore.open(db)) {
            store.insertVm(vm("a", VmState.DEFINED));
            store.insertVm(vm("b", VmState.DEFINED));
            store.updateState("a", VmState.RUNNING, T0.plusSeconds(5));
            store.deleteVm("b");
        }
        try (StateStore store = StateStore.open(db)) {
            assertThat(store.listVms()).containsExactly(vm("a", VmState.RUNNING).withState(VmState.RUNNING, T0.plusSeconds(5)));
        }
    }

    @Test
    void insertVm_sameNameTwice_fails() {
        try (StateStore store = StateStore.open(db)) {
            store.insertVm(vm("a", VmState.DEFINED));
            assertThatThrownBy(() -> store.insertVm(vm("a", VmState.DEFINED)))
                    .isInstanceOf(StateStoreException.class).hasMessageContaining("vm 'a'");
        }
    }

    @Test
    void updateState_unknownVm_saysItWasUndefined() {
        try (StateStore store = StateStore.open(db)) {
            assertThatThrownBy(() -> store.updateState("ghost", VmState.RUNNING, T0))
                    .isInstanceOf(StateStoreException.class).hasMessageContaining("vm 'ghost' is not in");
        }
    }

    @Test
    void journal_keepsEntriesInWriteOrderPerMigration() {
        try (StateStore store = StateStore.open(db)) {
            store.appendJournal(enter("m1", Phase.CHECK));
            store.appendJournal(new JournalEntry("m2", "db1", Role.DESTINATION, "node1", Phase.PREPARE, null, null,
                    JournalEvent.ENTER, T0, null, true, false));
            store.appendJournal(new JournalEntry("m1", "web1", Role.SOURCE, "node2", Phase.PRE_SUSPEND, "tpm0",
                    JournalStep.PRE_SUSPEND, JournalEvent.OK, T0.plusSeconds(1), null, null, false));

            assertThat(store.journal("m1")).extracting(JournalEntry::phase).containsExactly(Phase.CHECK, Phase.PRE_SUSPEND);
            assertThat(store.journal("m1").get(1).step()).isEqualTo(JournalStep.PRE_SUSPEND);
            assertThat(store.journal("m1").get(1).device()).isEqualTo("tpm0");
            assertThat(store.journal("m2").get(0).role()).isEqualTo(Role.DESTINATION);
            assertThat(store.journal("m2").get(0).guestWasRunning()).isTrue();
        }
    }

    @Test
    void journal_keepsEveryValueTheEnumsCanWrite() {
        // The schema's CHECK lists are literal (a released schema step never changes); this catches an enum
        // value added without a schema step that allows it.
        try (StateStore store = StateStore.open(db)) {
            int n = 0;
            for (Phase phase : Phase.values()) {
                for (JournalEvent event : JournalEvent.values()) {
                    store.appendJournal(new JournalEntry("all", "web1", Role.SOURCE, "node2", phase, null, null, event,
                            T0, null, null, false));
                    n++;
                }
            }
            for (JournalStep step : JournalStep.values()) {
                store.appendJournal(new JournalEntry("all", "web1", Role.DESTINATION, "node2", Phase.SYNC, "d0", step,
                        JournalEvent.OK, T0, null, false, true));
                n++;
            }
            for (Result result : Result.values()) {
                for (Mode mode : Mode.values()) {
                    store.saveMigration(new MigrationRecord(result.wireName() + "-" + mode.wireName(), "web1",
                            Role.SOURCE, "node2", mode, result, null, T0, T0));
                }
            }
            assertThat(store.journal("all")).hasSize(n);
            assertThat(store.listMigrations()).hasSize(Result.values().length * Mode.values().length);
        }
    }

    @Test
    void journal_refusesValuesNoVersionWrites() throws Exception {
        try (StateStore store = StateStore.open(db)) {
            store.appendJournal(enter("m1", Phase.CHECK));
        }
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = conn.createStatement()) {
            assertThatThrownBy(() -> st.execute("INSERT INTO migration_journal (migration_id, vm, role, peer, phase,"
                    + " event, at) VALUES ('m1', 'web1', 'source', 'node2', 'CHECK', 'enter', '" + T0 + "')"))
                    .hasMessageContaining("CHECK constraint failed");
            assertThatThrownBy(() -> st.execute("INSERT INTO migration_journal (migration_id, vm, role, peer, phase,"
                    + " event, at) VALUES ('m1', 'web1', 'source', 'node2', 'check', 'begin', '" + T0 + "')"))
                    .hasMessageContaining("CHECK constraint failed");
            assertThatThrownBy(() -> st.execute("INSERT INTO migrations VALUES ('m9', 'web1', 'source', 'node2',"
                    + " 'live', 'done', NULL, '" + T0 + "', '" + T0 + "')"))
                    .hasMessageContaining("CHECK constraint failed");
        }
    }

    @Test
    void open_journalWrittenByVersion3_readsTypedAfterTheUpgrade() throws Exception {
        // Rows exactly as version 3 of the agent wrote them: facts as prose, the owner-unknown in the report.
        try (StateStore v3 = StateStore.open(db, SchemaMigration.ALL.subList(0, 3))) {
            assertThat(v3.schemaVersion()).isEqualTo(3);
        }
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = conn.createStatement()) {
            String at = "'" + T0 + "'";
            st.execute("INSERT INTO migration_journal (migration_id, vm, role, peer, phase, device, step, event, at, detail)"
                    + " VALUES ('m1', 'web1', 'source', 'node2', 'check', NULL, NULL, 'enter', " + at + ", 'guest was paused'),"
                    + " ('m1', 'web1', 'source', 'node2', 'pre-suspend', 'tpm0', 'pre-suspend', 'ok', " + at + ", NULL),"
                    + " ('m1', 'web1', 'source', 'node2', 'rolling-back', 'tpm0', 'recover', 'failed', " + at + ", 'x'),"
                    + " ('m2', 'db1', 'source', 'node2', 'check', NULL, NULL, 'enter', " + at + ", 'guest was running'),"
                    + " ('m2', 'db1', 'source', 'node2', 'failed', NULL, NULL, 'enter', " + at + ", 'switchover: no answer'),"
                    + " ('m3', 'db2', 'destination', 'node1', 'rolled-back', NULL, NULL, 'recovered', " + at + ", NULL)");
            st.execute("INSERT INTO migrations VALUES ('m2', 'db1', 'source', 'node2', 'live', 'failed',"
                    + " '{\"failure\":{\"phase\":\"switchover\",\"step\":\"owner-unknown\"}}', " + at + ", " + at + "),"
                    + " ('m1', 'web1', 'source', 'node2', 'save', NULL, NULL, " + at + ", " + at + ")");
        }

        try (StateStore store = StateStore.open(db)) {
            List<JournalEntry> m1 = store.journal("m1");
            assertThat(m1).extracting(JournalEntry::phase)
                    .containsExactly(Phase.CHECK, Phase.PRE_SUSPEND, Phase.ROLLING_BACK);
            assertThat(m1.get(0).guestWasRunning()).isFalse();
            assertThat(m1.get(1).step()).isEqualTo(JournalStep.PRE_SUSPEND);
            assertThat(m1.get(2).step()).isEqualTo(JournalStep.RECOVER);
            assertThat(m1.get(2).event()).isEqualTo(JournalEvent.FAILED);
            List<JournalEntry> m2 = store.journal("m2");
            assertThat(m2.get(0).guestWasRunning()).isTrue();
            assertThat(m2.get(1).ownerUnknown()).isTrue();
            assertThat(m2.get(0).ownerUnknown()).isFalse();
            assertThat(store.journal("m3").get(0).event()).isEqualTo(JournalEvent.RECOVERED);
            assertThat(store.findMigration("m2")).get().extracting(MigrationRecord::result).isEqualTo(Result.FAILED);
            assertThat(store.findMigration("m1")).get().extracting(MigrationRecord::mode).isEqualTo(Mode.SAVE);
        }
    }

    @Test
    void extractNativeLibraryInto_removesEarlierExtractions_andPointsTheDriverThere() throws Exception {
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Path stale = Files.writeString(lib.resolve("sqlite-3.50.3.0-0b1c-libsqlitejdbc.so"), "old");
        Path staleLock = Files.writeString(lib.resolve("sqlite-3.50.3.0-0b1c-libsqlitejdbc.so.lck"), "");
        Path other = Files.writeString(lib.resolve("notes.txt"), "keep");
        Properties props = new Properties();

        assertThat(StateStore.extractNativeLibraryInto(lib, props)).isTrue();

        assertThat(props.getProperty("org.sqlite.tmpdir")).isEqualTo(lib.toAbsolutePath().toString());
        assertThat(stale).doesNotExist();
        assertThat(staleLock).doesNotExist();
        assertThat(other).exists();
    }

    @Test
    void extractNativeLibraryInto_whenAlreadyChosen_touchesNothing() throws Exception {
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Path loaded = Files.writeString(lib.resolve("sqlite-3.50.3.0-0b1c-libsqlitejdbc.so"), "in use");
        Properties props = new Properties();
        props.setProperty("org.sqlite.tmpdir", "/var/lib/elsewhere");

        assertThat(StateStore.extractNativeLibraryInto(lib, props)).isFalse();

        assertThat(props.getProperty("org.sqlite.tmpdir")).isEqualTo("/var/lib/elsewhere");
        assertThat(loaded).exists();
    }

    private static JournalEntry enter(String id, Phase phase) {
        return new JournalEntry(id, "web1", Role.SOURCE, "node2", phase, null, null, JournalEvent.ENTER, T0, null, null,
                false);
    }
}
