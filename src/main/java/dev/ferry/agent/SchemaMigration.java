package dev.ferry.agent;

import java.util.List;

/**
 * One step of the state database's schema. Steps are applied in order at start-up, each in its
 * own transaction together with its row in {@code schema_version}; a step is never edited once
 * released, a change is a new step.
 */
record SchemaMigration(int version, String description, List<String> statements) {

    static final List<SchemaMigration> ALL = List.of(
            new SchemaMigration(1, "vms", List.of("""
                    CREATE TABLE vms (
                        name       TEXT PRIMARY KEY,
                        uuid       TEXT NOT NULL UNIQUE,
                        spec_yaml  TEXT NOT NULL,
                        base_dir   TEXT NOT NULL,
                        state      TEXT NOT NULL,
                        updated_at TEXT NOT NULL
                    )""")),
            new SchemaMigration(2, "migration journal", List.of("""
                    CREATE TABLE migration_journal (
                        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
                        migration_id TEXT NOT NULL,
                        vm           TEXT NOT NULL,
                        role         TEXT NOT NULL CHECK (role IN ('source', 'destination')),
                        peer         TEXT NOT NULL,
                        phase        TEXT NOT NULL,
                        device       TEXT,
                        step         TEXT,
                        event        TEXT NOT NULL,
                        at           TEXT NOT NULL,
                        detail       TEXT
                    )""",
                    "CREATE INDEX migration_journal_by_id ON migration_journal (migration_id, seq)",
                    "CREATE INDEX migration_journal_by_vm ON migration_journal (vm, seq)")),
            new SchemaMigration(3, "migration history", List.of("""
                    CREATE TABLE migrations (
                        id          TEXT PRIMARY KEY,
                        vm          TEXT NOT NULL,
                        role        TEXT NOT NULL CHECK (role IN ('source', 'destination')),
                        peer        TEXT NOT NULL,
                        mode        TEXT NOT NULL,
                        result      TEXT,
                        report_json TEXT,
                        started_at  TEXT NOT NULL,
                        updated_at  TEXT NOT NULL
                    )""")));
}
