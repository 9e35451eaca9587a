package dev.ferry.agent;

import java.time.Instant;

/**
 * A migration as this agent's history keeps it.
 *
 * @param result     null while it runs; else the report's result
 * @param reportJson the final report as JSON, null while it runs
 */
public record MigrationRecord(String id, String vm, JournalEntry.Role role, String peer, String mode,
                              String result, String reportJson, Instant startedAt, Instant updatedAt) {}
