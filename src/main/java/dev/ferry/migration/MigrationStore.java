package dev.ferry.migration;

import java.util.List;
import java.util.Optional;

/**
 * Port: where this host keeps its migrations' journals and history, durably (the agent's state
 * database). Every write is on disk when the call returns: the journal is written before the
 * step it names acts.
 */
public interface MigrationStore {

    void appendJournal(JournalEntry entry);

    /** A migration's journal, oldest first. */
    List<JournalEntry> journal(String migrationId);

    /** Records a migration, or updates its result, report and time. */
    void saveMigration(MigrationRecord migration);

    Optional<MigrationRecord> findMigration(String id);

    /** Past and running migrations, newest first. */
    List<MigrationRecord> listMigrations();
}
