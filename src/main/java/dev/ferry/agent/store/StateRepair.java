package dev.ferry.agent.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The file half of {@code ferry agent repair}: a damaged state database is moved aside (kept, with
 * its WAL, as {@code ferry.db.damaged-<time>}) and replaced by the newest backup SQLite finds sound;
 * a missing or empty one is replaced the same way. A sound database is left as it is. Touches no process.
 */
public final class StateRepair {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private StateRepair() {
    }

    /**
     * What was done.
     *
     * @param missing      whether there was no database (or an empty file)
     * @param damage       what was wrong with the database, or null when it was sound or missing
     * @param keptAs       where the damaged database now is, or null
     * @param restoredFrom the backup copied into its place, or null (an empty database follows)
     * @param unsound      backups skipped because they are damaged too, with why
     */
    public record Outcome(boolean missing, String damage, Path keptAs, Path restoredFrom, List<String> unsound) {
        /** Whether the database was sound and nothing was changed. */
        public boolean untouched() {
            return !missing && damage == null;
        }
    }

    /** Replaces {@code db} by its newest sound backup when it is damaged or missing. */
    public static Outcome restore(Path db, Instant now) {
        String damage = null;
        Path keptAs = null;
        deleteIfEmpty(db);
        boolean missing = !Files.exists(db);
        if (!missing) {
            Optional<String> found = StateBackups.damageOf(db);
            if (found.isEmpty()) {
                return new Outcome(false, null, null, null, List.of());
            }
            damage = found.get();
            keptAs = db.resolveSibling(db.getFileName() + ".damaged-" + STAMP.format(now));
            for (String suffix : List.of("", "-wal", "-shm")) {
                move(db.resolveSibling(db.getFileName() + suffix), keptAs.resolveSibling(keptAs.getFileName() + suffix));
            }
        } else {
            // A WAL without its database is no use; it would be applied to the restored copy.
            for (String suffix : List.of("-wal", "-shm")) {
                move(db.resolveSibling(db.getFileName() + suffix),
                        db.resolveSibling(db.getFileName() + suffix + ".orphan-" + STAMP.format(now)));
            }
        }
        List<String> unsound = new ArrayList<>();
        for (Path backup : new StateBackups(db).existing()) {
            Optional<String> broken = StateBackups.damageOf(backup);
            if (broken.isPresent()) {
                unsound.add(backup.getFileName() + ": " + broken.get());
                continue;
            }
            try {
                Files.copy(backup, db, StandardCopyOption.COPY_ATTRIBUTES);
            } catch (IOException e) {
                throw new StateStoreException("cannot copy the backup " + backup + " to " + db + ": " + e.getMessage()
                        + "; copy it by hand, or free space on that file system and repair again", e);
            }
            return new Outcome(missing, damage, keptAs, backup, unsound);
        }
        return new Outcome(missing, damage, keptAs, null, unsound);
    }

    /** An empty file holds nothing to keep (an agent killed before it wrote its first page): it counts as missing. */
    private static void deleteIfEmpty(Path db) {
        try {
            if (Files.exists(db) && Files.size(db) == 0) {
                Files.delete(db);
            }
        } catch (IOException e) {
            throw new StateStoreException("cannot remove the empty " + db + ": " + e.getMessage()
                    + "; check the data directory's permissions", e);
        }
    }

    private static void move(Path from, Path to) {
        if (!Files.exists(from)) {
            return;
        }
        try {
            Files.move(from, to);
        } catch (IOException e) {
            throw new StateStoreException("cannot move " + from + " aside to " + to + ": " + e.getMessage()
                    + "; check the data directory's permissions", e);
        }
    }
}
