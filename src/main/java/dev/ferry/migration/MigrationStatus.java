package dev.ferry.migration;

import java.time.Instant;
import java.util.Map;

/**
 * A migration as the API shows it: while it runs, its phase and RAM progress; once it ended,
 * its report.
 */
public record MigrationStatus(String id, String vm, String role, String peer, String mode, String phase,
                              boolean running, RamProgress ram, Map<String, Double> devices, Instant startedAt,
                              MigrationReport report) {

    /** @param devices progress of devices that copy data of their own (local disks), by device id */
    public MigrationStatus {
        devices = devices == null ? Map.of() : Map.copyOf(devices);
    }
}
