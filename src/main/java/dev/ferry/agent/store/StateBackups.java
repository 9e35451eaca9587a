package dev.ferry.agent.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * Backups of the state database beside it, {@code ferry.db.backup-1} (newest) to
 * {@code ferry.db.backup-}{@value #KEPT}: each a consistent copy written by SQLite's
 * {@code VACUUM INTO} at a clean point, so that a damaged database can be replaced by the newest
 * copy that is sound ({@link StateRepair}). Also the soundness check itself.
 */
final class StateBackups {
    private static final Logger log = LoggerFactory.getLogger(StateBackups.class);
    /** How many backups are kept. */
    static final int KEPT = 2;

    private final Path db;

    StateBackups(Path db) {
        this.db = db;
    }

    /** Backup {@code n}, 1 the newest. */
    Path backup(int n) {
        return db.resolveSibling(db.getFileName() + ".backup-" + n);
    }

    /** The backups there are, newest first. */
    List<Path> existing() {
        List<Path> out = new ArrayList<>();
        for (int n = 1; n <= KEPT; n++) {
            if (Files.isRegularFile(backup(n))) {
                out.add(backup(n));
            }
        }
        return out;
    }

    /** Writes a new backup from {@code conn} and rotates the older ones; on failure logs why and keeps the old ones. */
    void write(Connection conn) {
        Path fresh = db.resolveSibling(db.getFileName() + ".backup-new");
        try {
            Files.deleteIfExists(fresh);
            try (Statement st = conn.createStatement()) {
                st.execute("VACUUM INTO '" + fresh.toAbsolutePath().toString().replace("'", "''") + "'");
            }
            for (int n = KEPT; n > 1; n--) {
                if (Files.exists(backup(n - 1))) {
                    Files.move(backup(n - 1), backup(n), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(fresh, backup(1), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (SQLException | IOException e) {
            log.warn("cannot back up the state database {} to {}: {}; the older backups are kept", db, fresh,
                    e.getMessage());
            try {
                Files.deleteIfExists(fresh);
            } catch (IOException ignored) {
                // Logged above; the next clean point tries again.
            }
        }
    }

    /** What is wrong with the database file {@code file}, or empty when SQLite finds it sound. Opens it read-only. */
    static Optional<String> damageOf(Path file) {
        SQLiteConfig readOnly = new SQLiteConfig();
        readOnly.setReadOnly(true);
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), readOnly.toProperties())) {
            return damage(conn);
        } catch (SQLException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * What SQLite's {@code quick_check} finds wrong through {@code conn} (the first three problems),
     * or empty when the database is sound. A file that is no database at all is damaged too.
     */
    static Optional<String> damage(Connection conn) {
        List<String> problems = new ArrayList<>();
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("PRAGMA quick_check(3)")) {
            while (rs.next()) {
                problems.add(rs.getString(1));
            }
        } catch (SQLException e) {
            return Optional.of(e.getMessage());
        }
        if (problems.equals(List.of("ok"))) {
            return Optional.empty();
        }
        return Optional.of(problems.isEmpty() ? "quick_check returned nothing" : String.join("; ", problems));
    }
}
