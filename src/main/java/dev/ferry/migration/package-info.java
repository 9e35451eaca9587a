/**
 * Migration: the coordinator that drives one migration from the source, its phases and rollback,
 * the destination's side, the journal contract, reports, and save files.
 *
 * <p>{@link dev.ferry.migration.MigrationCoordinator} runs a {@link dev.ferry.migration.MigrationPlan}
 * (the devices bound to their controllers) against a {@link dev.ferry.migration.SourceQemu}
 * ({@link dev.ferry.migration.QmpSourceQemu} in production) and a {@link dev.ferry.migration.Destination}
 * (another agent, or a {@link dev.ferry.migration.FileDestination} for a save). Each phase goes to the
 * {@link dev.ferry.migration.Journal} before it acts; {@code Recorder} keeps the timeline and
 * {@code DeviceSteps} tracks which devices started and their last good step, so that a rollback
 * recovers exactly those, newest first. The destination's side, {@link dev.ferry.migration.IncomingMigrations},
 * checks, prepares the incoming QEMU (and {@code IncomingDisks} the copies of local disks), records
 * ownership through its host before resuming, and answers a retried call the same way. Everything
 * ends in a {@link dev.ferry.migration.MigrationReport}.
 */
package dev.ferry.migration;
