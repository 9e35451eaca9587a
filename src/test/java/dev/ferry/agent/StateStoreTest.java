package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.vm.VmState;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StateStoreTest {
    private static final Instant T0 = Instant.parse("2030-01-01T12:00:00Z");

    private Path dir;
    private Path db;

    @BeforeEach
    void setUp() {
        dir = TestAgents.tempDir();
        db = dir.resolve("data/ferry.db");
    }

    @AfterEach
    void tearDown() {
        TestAgents.delete(dir);
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
            store.appendJournal(new JournalEntry("m1", "web1", JournalEntry.Role.SOURCE, "node2", "CHECK",
                    null, null, "begin", T0, null));
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
            store.appendJournal(new JournalEntry("m1", "web1", JournalEntry.Role.SOURCE, "node2", "CHECK", null, null, "begin", T0, null));
            store.appendJournal(new JournalEntry("m2", "db1", JournalEntry.Role.DESTINATION, "node1", "PREPARE", null, null, "begin", T0, null));
            store.appendJournal(new JournalEntry("m1", "web1", JournalEntry.Role.SOURCE, "node2", "PRE_SUSPEND", "tpm0", "pre-suspend", "done", T0.plusSeconds(1), "ok"));

            assertThat(store.journal("m1")).extracting(JournalEntry::phase).containsExactly("CHECK", "PRE_SUSPEND");
            assertThat(store.journal("m1").get(1).device()).isEqualTo("tpm0");
            assertThat(store.journal("m2").get(0).role()).isEqualTo(JournalEntry.Role.DESTINATION);
        }
    }
}
