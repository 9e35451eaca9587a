package dev.ferry.agent;

import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.RamProgress;
import java.time.Instant;

/**
 * A migration as the API shows it: while it runs, its phase and RAM progress; once it ended,
 * its report.
 */
public record MigrationStatus(String id, String vm, String role, String peer, String mode, String phase,
                              boolean running, RamProgress ram, Instant startedAt, MigrationReport report) {}
