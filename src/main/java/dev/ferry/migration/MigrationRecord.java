package dev.ferry.migration;

import dev.ferry.device.Mode;
import java.time.Instant;

/**
 * A migration as a host's history keeps it.
 *
 * @param result     null while it runs; else how it ended
 * @param reportJson the final report as JSON, null while it runs or when no report was made
 */
public record MigrationRecord(String id, String vm, Role role, String peer, Mode mode, Result result,
                              String reportJson, Instant startedAt, Instant updatedAt) {

    /** The same record, ended with {@code result} at {@code at}. */
    public MigrationRecord ended(Result result, String reportJson, Instant at) {
        return new MigrationRecord(id, vm, role, peer, mode, result, reportJson, startedAt, at);
    }
}
