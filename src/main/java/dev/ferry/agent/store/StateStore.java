package dev.ferry.agent.store;

import dev.ferry.device.Mode;
import dev.ferry.migration.JournalEntry;
import dev.ferry.migration.JournalEvent;
import dev.ferry.migration.JournalStep;
import dev.ferry.migration.MigrationRecord;
import dev.ferry.migration.MigrationStore;
import dev.ferry.migration.Phase;
import dev.ferry.migration.Result;
import dev.ferry.migration.Role;
import dev.ferry.vm.VmState;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteErrorCode;

/**
 * The agent's durable state in one SQLite file: the VMs it knows and the migration journal.
 * WAL mode with full sync, so whatever a call wrote before the agent is killed is there after
 * a restart. One connection, serialised: SQLite has a single writer anyway.
 */
public final class StateStore implements MigrationStore, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StateStore.class);

    /**
     * Room held back for recording a teardown on a full disk. Measured (StateSafetyTest): each
     * journal entry is a transaction of a few 4 KiB pages in the WAL, about 17 KiB, so the rollback
     * of a VM with 16 devices (34 entries and its final result) takes about 0.6 MiB; four such fit.
     */
    static final long RESERVE_BYTES = 4L * 1024 * 1024;

    private final Path file;
    private final Connection conn;
    private final SpaceReserve reserve;
    private final StateBackups backups;

    private StateStore(Path file, Connection conn) {
        this.file = file;
        this.conn = conn;
        this.reserve = new SpaceReserve(reserveFile(file), RESERVE_BYTES);
        this.backups = new StateBackups(file);
    }

    /** The file that holds the state database's reserve of disk space, beside it. */
    public static Path reserveFile(Path database) {
        return database.resolveSibling(database.getFileName() + ".reserve");
    }

    /** The property SQLite's JDBC driver reads for where to extract its native library. */
    static final String NATIVE_LIBRARY_DIR = "org.sqlite.tmpdir";

    /**
     * Gives SQLite's native library a directory of the agent's own. The driver extracts the
     * library on first use into {@code java.io.tmpdir} and removes it at a clean exit only, so an
     * agent killed and restarted again and again fills {@code /tmp}. In {@code dir} (under the
     * agent's locked data directory) the extractions of earlier, dead agents are removed here.
     * Does nothing when the property is already set (by the operator, or by an earlier agent in
     * this JVM, whose library may be loaded from there).
     *
     * @return whether {@code dir} is now where the library goes
     */
    public static boolean extractNativeLibraryInto(Path dir, Properties properties) {
        if (properties.getProperty(NATIVE_LIBRARY_DIR) != null) {
            return false;
        }
        try {
            Files.createDirectories(dir);
            try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "sqlite-*")) {
                for (Path p : old) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            log.warn("cannot prepare {} for SQLite's native library ({}); it goes to the temp directory", dir,
                    e.getMessage());
            return false;
        }
        properties.setProperty(NATIVE_LIBRARY_DIR, dir.toAbsolutePath().toString());
        return true;
    }

    /** Opens (creating if needed) the database and brings its schema up to date. */
    public static StateStore open(Path file) {
        return open(file, SchemaMigration.ALL);
    }

    static StateStore open(Path file, List<SchemaMigration> migrations) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new StateStoreException("cannot create the directory of " + file + ": " + e.getMessage()
                    + "; check dataDir in the agent's configuration", e);
        }
        try {
            boolean existed = Files.exists(file);
            Connection conn = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            if (existed) {
                Optional<String> damage = StateBackups.damage(conn);
                if (damage.isPresent()) {
                    conn.close();
                    throw new StateStoreException(damaged(file, damage.get()));
                }
            }
            try (Statement st = conn.createStatement()) {
                st.execute("PRAGMA journal_mode=WAL");
                st.execute("PRAGMA synchronous=FULL");
                st.execute("PRAGMA busy_timeout=5000");
            }
            StateStore store = new StateStore(file, conn);
            store.upgrade(migrations);
            store.reserve.fill();
            return store;
        } catch (SQLException e) {
            throw new StateStoreException("cannot open the state database " + file + ": " + e.getMessage(), e);
        }
    }

    /** What an agent started on a damaged database says: what is wrong, that no VM was touched, how to recover. */
    static String damaged(Path file, String what) {
        List<Path> kept = new StateBackups(file).existing();
        return "the state database " + file + " is damaged (" + what + "); the agent did not start and touched no VM,"
                + " running VMs keep running. Recover with 'ferry agent repair --config <this agent's configuration>':"
                + " it keeps the damaged file beside it, restores the newest good backup ("
                + (kept.isEmpty() ? "none is kept yet, so it starts empty" : kept.get(0).getFileName() + " and older")
                + ") and records again every VM it finds running in the run directories";
    }

    private void upgrade(List<SchemaMigration> migrations) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)");
        }
        int current = schemaVersion();
        int newest = migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
        if (current > newest) {
            throw new StateStoreException(file + " has schema version " + current + " but this agent knows only up to "
                    + newest + "; run a newer ferry or point dataDir elsewhere");
        }
        for (SchemaMigration m : migrations) {
            if (m.version() > current) {
                apply(m);
            }
        }
    }

    private void apply(SchemaMigration m) throws SQLException {
        conn.setAutoCommit(false);
        try (Statement st = conn.createStatement()) {
            for (String sql : m.statements()) {
                st.execute(sql);
            }
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO schema_version VALUES (?, ?, ?)")) {
                ps.setInt(1, m.version());
                ps.setString(2, m.description());
                ps.setString(3, Instant.now().toString());
                ps.executeUpdate();
            }
            conn.commit();
            log.info("state database {}: applied schema version {} ({})", file, m.version(), m.description());
        } catch (SQLException e) {
            conn.rollback();
            throw new StateStoreException("cannot upgrade " + file + " to schema version " + m.version() + ": "
                    + e.getMessage() + "; the database is unchanged", e);
        } finally {
            conn.setAutoCommit(true);
        }
    }

    public synchronized int schemaVersion() {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        } catch (SQLException e) {
            throw failure("read the schema version", e);
        }
    }

    /** Records a new VM; fails if one with that name or UUID is already recorded. */
    public synchronized void insertVm(VmRecord vm) {
        // A VM recorded as migrating is one this host just took in a migration: that settles it.
        write("record vm '" + vm.name() + "'", vm.state() == VmState.MIGRATING, () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO vms (name, uuid, spec_yaml, base_dir, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, vm.name());
                ps.setString(2, vm.uuid());
                ps.setString(3, vm.specYaml());
                ps.setString(4, vm.baseDir());
                ps.setString(5, vm.state().wireName());
                ps.setString(6, vm.updatedAt().toString());
                ps.executeUpdate();
            }
        });
        cleanPoint();
    }

    public synchronized void updateState(String name, VmState state, Instant at) {
        write("record the state of vm '" + name + "'", true, () -> {
            try (PreparedStatement ps = conn.prepareStatement("UPDATE vms SET state = ?, updated_at = ? WHERE name = ?")) {
                ps.setString(1, state.wireName());
                ps.setString(2, at.toString());
                ps.setString(3, name);
                if (ps.executeUpdate() != 1) {
                    throw new StateStoreException("vm '" + name + "' is not in " + file + "; it was undefined meanwhile");
                }
            }
        });
    }

    public synchronized void deleteVm(String name) {
        write("remove vm '" + name + "'", false, () -> {
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM vms WHERE name = ?")) {
                ps.setString(1, name);
                ps.executeUpdate();
            }
        });
        cleanPoint();
    }

    public synchronized Optional<VmRecord> findVm(String name) {
        List<VmRecord> found = queryVms("SELECT * FROM vms WHERE name = ?", name);
        return found.stream().findFirst();
    }

    /** All recorded VMs, by name. */
    public synchronized List<VmRecord> listVms() {
        return queryVms("SELECT * FROM vms ORDER BY name");
    }

    private List<VmRecord> queryVms(String sql, String... args) {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            List<VmRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new VmRecord(rs.getString("name"), rs.getString("uuid"), rs.getString("spec_yaml"),
                            rs.getString("base_dir"), VmState.fromWireName(rs.getString("state")),
                            Instant.parse(rs.getString("updated_at"))));
                }
            }
            return out;
        } catch (SQLException e) {
            throw failure("read the vms", e);
        }
    }

    /** Appends to the migration journal; callers write an entry before the step it names acts. */
    @Override
    public synchronized void appendJournal(JournalEntry e) {
        write("append to the journal of migration " + e.migrationId(), settles(e), () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO migration_journal (migration_id, vm, role, peer,"
                    + " phase, device, step, event, at, detail, guest_was_running, owner_unknown)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, e.migrationId());
                ps.setString(2, e.vm());
                ps.setString(3, e.role().wireName());
                ps.setString(4, e.peer());
                ps.setString(5, e.phase().wireName());
                ps.setString(6, e.device());
                ps.setString(7, e.step() == null ? null : e.step().wireName());
                ps.setString(8, e.event().wireName());
                ps.setString(9, e.at().toString());
                ps.setString(10, e.detail());
                if (e.guestWasRunning() == null) {
                    ps.setNull(11, Types.INTEGER);
                } else {
                    ps.setInt(11, e.guestWasRunning() ? 1 : 0);
                }
                ps.setInt(12, e.ownerUnknown() ? 1 : 0);
                ps.executeUpdate();
            }
        });
    }

    /** A migration's journal, oldest first. */
    @Override
    public synchronized List<JournalEntry> journal(String migrationId) {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT * FROM migration_journal WHERE migration_id = ? ORDER BY seq")) {
            ps.setString(1, migrationId);
            List<JournalEntry> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String step = rs.getString("step");
                    int running = rs.getInt("guest_was_running");
                    Boolean guestWasRunning = rs.wasNull() ? null : running == 1;
                    out.add(new JournalEntry(rs.getString("migration_id"), rs.getString("vm"),
                            Role.fromWireName(rs.getString("role")), rs.getString("peer"),
                            Phase.fromWireName(rs.getString("phase")), rs.getString("device"),
                            step == null ? null : JournalStep.fromWireName(step),
                            JournalEvent.fromWireName(rs.getString("event")), Instant.parse(rs.getString("at")),
                            rs.getString("detail"), guestWasRunning, rs.getInt("owner_unknown") == 1));
                }
            }
            return out;
        } catch (SQLException e) {
            throw failure("read the journal of migration " + migrationId, e);
        }
    }

    /** Records a migration this agent takes part in, or updates its result and report. */
    @Override
    public synchronized void saveMigration(MigrationRecord m) {
        write("record migration " + m.id(), m.result() != null, () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO migrations "
                    + "(id, vm, role, peer, mode, result, report_json, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT(id) DO UPDATE SET result = excluded.result, report_json = excluded.report_json, "
                    + "updated_at = excluded.updated_at")) {
                ps.setString(1, m.id());
                ps.setString(2, m.vm());
                ps.setString(3, m.role().wireName());
                ps.setString(4, m.peer());
                ps.setString(5, m.mode().wireName());
                ps.setString(6, m.result() == null ? null : m.result().wireName());
                ps.setString(7, m.reportJson());
                ps.setString(8, m.startedAt().toString());
                ps.setString(9, m.updatedAt().toString());
                ps.executeUpdate();
            }
        });
        if (m.result() != null) {
            cleanPoint();
        }
    }

    /** Past and running migrations, newest first. */
    @Override
    public synchronized List<MigrationRecord> listMigrations() {
        return queryMigrations("SELECT * FROM migrations ORDER BY started_at DESC");
    }

    @Override
    public synchronized Optional<MigrationRecord> findMigration(String id) {
        return queryMigrations("SELECT * FROM migrations WHERE id = ?", id).stream().findFirst();
    }

    private List<MigrationRecord> queryMigrations(String sql, String... args) {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            List<MigrationRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String result = rs.getString("result");
                    out.add(new MigrationRecord(rs.getString("id"), rs.getString("vm"),
                            Role.fromWireName(rs.getString("role")), rs.getString("peer"),
                            Mode.fromWireName(rs.getString("mode")),
                            result == null ? null : Result.fromWireName(result), rs.getString("report_json"),
                            Instant.parse(rs.getString("started_at")), Instant.parse(rs.getString("updated_at"))));
                }
            }
            return out;
        } catch (SQLException e) {
            throw failure("read the migrations", e);
        }
    }

    /** One write to the database. */
    @FunctionalInterface
    private interface Write {
        void run() throws SQLException;
    }

    /**
     * Runs {@code write}. When SQLite finds the disk full, a write that settles something
     * ({@code mayUseReserve}: a rollback's or a migration's end, a VM's state, a VM this host took
     * in a migration) gives the reserve back
     * to the file system and runs once more, so that a teardown is recorded on a full disk; any other
     * write fails, so that what would need more room (a new migration, a new VM) stops instead of
     * spending the reserve, and any other write first makes sure the reserve is held.
     */
    private void write(String what, boolean mayUseReserve, Write write) {
        // Nothing moves on unless a rollback of it could be recorded: the reserve spent by an earlier
        // teardown is written again first, and without room for it the write is refused.
        if (!mayUseReserve && !reserve.fill()) {
            throw new StateStoreException("cannot " + what + " in " + file + ": its file system has no room for the "
                    + reserve.bytes() + "-byte reserve that keeps a rollback recordable; free space there (see"
                    + " docs/storage.md)");
        }
        try {
            write.run();
        } catch (SQLException e) {
            if (!isDiskFull(e) || !mayUseReserve || !reserve.release()) {
                throw failure(what, e);
            }
            log.warn("state database {}: the disk is full; released the {}-byte reserve so that the agent can {}."
                    + " Free space on that file system: until then the agent records only what settles a migration"
                    + " or a VM", file, reserve.bytes(), what);
            try {
                write.run();
            } catch (SQLException again) {
                throw failure(what, again);
            }
        }
    }

    /** Whether {@code e} settles a migration: it enters a rollback or an end, or records how a restart settled it. */
    private static boolean settles(JournalEntry e) {
        return e.phase() == Phase.ROLLING_BACK || e.phase().isFinal() || e.event() == JournalEvent.RECOVERED;
    }

    static boolean isDiskFull(SQLException e) {
        return (e.getErrorCode() & 0xff) == SQLiteErrorCode.SQLITE_FULL.code;
    }

    /**
     * A clean point (a VM defined or removed, a migration ended): writes a backup of the database
     * and the reserve again if it was spent. Neither is needed to go on, so a failure is logged only.
     */
    private void cleanPoint() {
        reserve.fill();
        backups.write(conn);
    }

    /** Writes a backup now (the agent does at start, once the database proved sound). */
    public synchronized void backup() {
        backups.write(conn);
    }

    private StateStoreException failure(String what, SQLException e) {
        if (isDiskFull(e)) {
            return new StateStoreException("cannot " + what + " in " + file + ": its file system is full ("
                    + e.getMessage() + "); free space there (see docs/storage.md)", e);
        }
        return new StateStoreException("cannot " + what + " in " + file + ": " + e.getMessage(), e);
    }

    @Override
    public synchronized void close() {
        try {
            conn.close();
        } catch (SQLException e) {
            log.warn("closing {} failed: {}", file, e.getMessage());
        }
    }
}
