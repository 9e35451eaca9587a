package dev.ferry.migration;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A {@link MigrationStore} in memory, for tests that read what was journaled. */
final class MemoryStore implements MigrationStore {
    final List<JournalEntry> entries = new ArrayList<>();
    final Map<String, MigrationRecord> migrations = new LinkedHashMap<>();
    /** Thrown once, by the next journal entry that enters a final phase. */
    RuntimeException failFinalJournalOnce;
    /** Thrown once, by the next save of a migration with a result. */
    Error failFinalSaveOnce;

    @Override
    public synchronized void appendJournal(JournalEntry entry) {
        if (failFinalJournalOnce != null && entry.event() == JournalEvent.ENTER && entry.phase().isFinal()) {
            RuntimeException e = failFinalJournalOnce;
            failFinalJournalOnce = null;
            throw e;
        }
        entries.add(entry);
    }

    @Override
    public synchronized List<JournalEntry> journal(String migrationId) {
        return entries.stream().filter(e -> e.migrationId().equals(migrationId)).toList();
    }

    @Override
    public synchronized void saveMigration(MigrationRecord migration) {
        if (failFinalSaveOnce != null && migration.result() != null) {
            Error e = failFinalSaveOnce;
            failFinalSaveOnce = null;
            throw e;
        }
        migrations.put(migration.id(), migration);
    }

    @Override
    public synchronized Optional<MigrationRecord> findMigration(String id) {
        return Optional.ofNullable(migrations.get(id));
    }

    @Override
    public synchronized List<MigrationRecord> listMigrations() {
        List<MigrationRecord> out = new ArrayList<>(migrations.values());
        out.sort(Comparator.comparing(MigrationRecord::startedAt).reversed());
        return out;
    }

    /** The phases entered, in order. */
    synchronized List<Phase> phases(String migrationId) {
        return journal(migrationId).stream().filter(e -> e.event() == JournalEvent.ENTER).map(JournalEntry::phase)
                .toList();
    }
}
