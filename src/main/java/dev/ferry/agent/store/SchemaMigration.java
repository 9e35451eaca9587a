package dev.ferry.agent.store;

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
                    )""")),
            // Version 4 types the journal and the history: every phase, step, event, mode and result is one
            // of the values the code's enums write (dev.ferry.migration), and the facts recovery needs are
            // columns instead of sentences in 'detail'. Rows written by version 3 are carried over.
            new SchemaMigration(4, "typed migration journal and history", List.of("""
                    CREATE TABLE migration_journal_v4 (
                        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
                        migration_id      TEXT NOT NULL,
                        vm                TEXT NOT NULL,
                        role              TEXT NOT NULL CHECK (role IN ('source', 'destination')),
                        peer              TEXT NOT NULL,
                        phase             TEXT NOT NULL CHECK (phase IN ('check', 'prepare', 'pre-suspend', 'ram-copy',
                                              'post-suspend', 'sync', 'switchover', 'cleanup', 'rolling-back',
                                              'completed', 'checked', 'refused', 'rolled-back', 'failed')),
                        device            TEXT,
                        step              TEXT CHECK (step IN ('check', 'pre-suspend', 'post-suspend', 'sync',
                                              'recover', 'after-resume')),
                        event             TEXT NOT NULL CHECK (event IN ('enter', 'start', 'ok', 'failed', 'timed-out',
                                              'cancelled', 'refused', 'recovered')),
                        at                TEXT NOT NULL,
                        detail            TEXT,
                        guest_was_running INTEGER CHECK (guest_was_running IN (0, 1)),
                        owner_unknown     INTEGER NOT NULL DEFAULT 0 CHECK (owner_unknown IN (0, 1)),
                        CHECK ((device IS NULL) = (step IS NULL))
                    )""",
                    // Version 3 wrote these two facts as prose: CHECK's detail said whether the guest ran, and
                    // an unanswered switchover showed only in the report's failure step.
                    """
                    INSERT INTO migration_journal_v4 (seq, migration_id, vm, role, peer, phase, device, step, event, at,
                                                      detail, guest_was_running, owner_unknown)
                    SELECT seq, migration_id, vm, role, peer, phase, device, step, event, at, detail,
                           CASE WHEN role = 'source' AND phase = 'check' AND event = 'enter'
                                THEN (CASE WHEN detail = 'guest was paused' THEN 0 ELSE 1 END) END,
                           CASE WHEN phase = 'failed' AND event = 'enter' AND migration_id IN
                                (SELECT id FROM migrations WHERE report_json LIKE '%"step":"owner-unknown"%')
                                THEN 1 ELSE 0 END
                    FROM migration_journal""",
                    "DROP TABLE migration_journal",
                    "ALTER TABLE migration_journal_v4 RENAME TO migration_journal",
                    "CREATE INDEX migration_journal_by_id ON migration_journal (migration_id, seq)",
                    "CREATE INDEX migration_journal_by_vm ON migration_journal (vm, seq)",
                    """
                    CREATE TABLE migrations_v4 (
                        id          TEXT PRIMARY KEY,
                        vm          TEXT NOT NULL,
                        role        TEXT NOT NULL CHECK (role IN ('source', 'destination')),
                        peer        TEXT NOT NULL,
                        mode        TEXT NOT NULL CHECK (mode IN ('live', 'save')),
                        result      TEXT CHECK (result IN ('completed', 'checked', 'refused', 'rolled-back', 'failed')),
                        report_json TEXT,
                        started_at  TEXT NOT NULL,
                        updated_at  TEXT NOT NULL
                    )""",
                    "INSERT INTO migrations_v4 SELECT id, vm, role, peer, mode, result, report_json, started_at, updated_at"
                            + " FROM migrations",
                    "DROP TABLE migrations",
                    "ALTER TABLE migrations_v4 RENAME TO migrations")));
}
