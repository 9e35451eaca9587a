/**
 * The fault-injection matrix: migration phases against faults, each cell a real live migration
 * between two agent processes, followed by the design's invariants.
 *
 * <p>{@link dev.ferry.fault.FaultMatrixIT} starts a {@link dev.ferry.lab.Lab} (two agent JVMs,
 * each reaching the other through a {@link dev.ferry.lab.LinkProxy}, and a
 * {@link dev.ferry.lab.FakeTool}) and boots the {@link dev.ferry.lab.MatrixGuest} that bounces
 * between the hosts. For each cell, {@link dev.ferry.fault.FaultRun} holds a migration in the row's
 * phase (the tool waits at its step, the proxy holds a peer request or its answer, the
 * destination's QEMU launcher waits after starting an incoming QEMU, or a QEMU the phase needs is
 * stopped with SIGSTOP), injects the column's fault, waits for the migration to end
 * and hands over to {@link dev.ferry.lab.Invariants}; a cell that broke something resets the
 * lab. {@link dev.ferry.fault.MatrixReport} turns the {@link dev.ferry.fault.CellResult}s into
 * {@code docs/fault-matrix.md}.
 */
package dev.ferry.fault;
