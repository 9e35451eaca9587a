/**
 * The fault-injection matrix: migration phases against faults, each cell a real live migration
 * between two agent processes, followed by the design's invariants.
 *
 * <p>{@link dev.ferry.fault.FaultMatrixIT} walks the cells. For each, {@link dev.ferry.fault.FaultRun}
 * holds a migration in the row's phase (the {@link dev.ferry.fault.FaultTool} waits at its step, or
 * the {@link dev.ferry.fault.LinkProxy} in front of the destination's API holds a peer request or
 * its answer, or the source's status is watched for {@code ram-copy}), injects the column's fault,
 * waits for the migration to end and hands over to {@link dev.ferry.fault.Invariants}. The
 * {@link dev.ferry.fault.Lab} owns the agents ({@link dev.ferry.fault.AgentProcess}, reached through
 * {@link dev.ferry.fault.AgentApi}), the proxies, the tool and the one guest that bounces between
 * the hosts, and resets all of it when a cell broke something. {@link dev.ferry.fault.MatrixReport}
 * turns the {@link dev.ferry.fault.CellResult}s into {@code docs/fault-matrix.md}.
 */
package dev.ferry.fault;
