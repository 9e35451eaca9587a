/**
 * Migration: every class that decides what a migration does next, on either side, live or after a
 * restart. Reading this package alone answers "what happens when".
 *
 * <p><b>Source.</b> {@link dev.ferry.migration.SourceMigrations} records a migration in the history,
 * takes the VM's lease and runs the {@link dev.ferry.migration.MigrationCoordinator} on its own
 * thread: CHECK, PREPARE, PRE_SUSPEND, RAM_COPY, POST_SUSPEND, SYNC, SWITCHOVER, CLEANUP
 * ({@link dev.ferry.migration.Phase}, an explicit transition table). {@code Recorder} journals
 * each phase before it acts and builds the {@link dev.ferry.migration.MigrationReport};
 * {@code DeviceSteps} runs the devices' steps in the order their {@link
 * dev.ferry.device.StepSequence} prescribes (Ferry's, or xend's) and remembers which started; {@code Rollback} undoes
 * a migration that did not reach the destination. The destination is a {@link
 * dev.ferry.migration.Destination}: another agent through {@link dev.ferry.migration.PeerClient}
 * (one HTTP client per peer, {@link dev.ferry.migration.Peers}), or a file for a save.
 *
 * <p><b>Destination.</b> {@link dev.ferry.migration.DestinationMigrations} answers the peer protocol
 * ({@link dev.ferry.migration.PeerProtocol}, the wire types both ends use) through {@link
 * dev.ferry.migration.IncomingMigrations}, which moves each incoming migration through its {@link
 * dev.ferry.migration.DestinationState}s: journal first, then what each device's {@link
 * dev.ferry.device.IncomingDevice} makes, the incoming QEMU, and the devices' endpoints; ownership
 * journaled and recorded before the guest resumes.
 *
 * <p><b>After a restart.</b> {@link dev.ferry.migration.SourceRecovery} and {@link
 * dev.ferry.migration.DestinationRecovery} settle every migration the history shows unfinished,
 * one branch per phase, from the typed journal ({@link dev.ferry.migration.JournalEntry}:
 * phase, {@link dev.ferry.migration.JournalStep}, {@link dev.ferry.migration.JournalEvent}, and
 * the facts recovery needs as fields); the source runs the same {@code Rollback} as the live path.
 *
 * <p><b>Ports</b> the agent implements, and all this package asks of it:
 * <ul>
 *   <li>{@link dev.ferry.migration.MigrationStore}: the journal and the history, durable on return;</li>
 *   <li>{@link dev.ferry.migration.HostVms}: this host's VMs (records, states, QEMU handles, job leases).</li>
 * </ul>
 * The VM runtime ({@link dev.ferry.vm.VmHost}) and the devices ({@link dev.ferry.device}) are
 * layers below. {@link dev.ferry.migration.Migrations} wires one host's migrations and owns their
 * threads, named after the host and shut down in order.
 */
package dev.ferry.migration;
