package dev.ferry.migration;

import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** The source VM's QEMU, as the coordinator drives its migration stream. */
public interface SourceQemu {

    /** Whether the guest's vCPUs run now (decides whether a rollback resumes it). */
    boolean isRunning() throws MigrationException;

    /** Sets capabilities ({@code pause-before-switchover}, {@code events}) and parameters. */
    void configure(MigrationParams params) throws MigrationException;

    /** Starts sending to {@code uri} (a destination's incoming address, or a file). */
    void startMigration(String uri) throws MigrationException;

    /**
     * Waits until QEMU pauses the guest before switchover, reporting progress; returns when the
     * guest was paused. Throws when the migration fails or does not get there within
     * {@code limit}; returns early when {@code cancelled} turns true.
     */
    Instant awaitPreSwitchover(Duration limit, Consumer<RamProgress> progress, BooleanSupplier cancelled)
            throws MigrationException;

    /** Lets QEMU finish after the devices' step 3. */
    void continueSwitchover() throws MigrationException;

    /** Waits for QEMU to finish sending; returns its final figures, with QEMU's downtime in ms. */
    Completion awaitCompleted(Duration limit) throws MigrationException;

    /** Cancels the QEMU migration if one runs; returns once QEMU has left it. */
    void cancelMigration() throws MigrationException;

    /** Resumes the guest's vCPUs if they are paused. */
    void resume() throws MigrationException;

    /** After a completed migration: quits QEMU and releases the VM's backends on this host. */
    void release() throws MigrationException;

    /** QEMU's final figures. */
    record Completion(RamProgress ram, Long downtimeMs) {}
}
