/**
 * The randomized crash harness: live migrations of one shared guest between two agent processes,
 * each with a SIGKILL of an agent, both agents or one QEMU at a uniformly random moment, then the
 * fault matrix's invariants.
 *
 * <p>{@link dev.ferry.crash.CrashHarnessIT} starts a {@link dev.ferry.lab.Lab}, boots the
 * {@link dev.ferry.lab.MatrixGuest} and calibrates a migration's duration; each
 * {@link dev.ferry.crash.CrashPlan} (drawn from a seed) is carried out by a
 * {@link dev.ferry.crash.CrashRun}, checked by {@link dev.ferry.lab.Invariants} and summed up in a
 * {@link dev.ferry.crash.Batch}, which {@link dev.ferry.crash.CrashRunsDoc} adds to
 * {@code docs/crash-runs.md} (in the {@code crash-runs} profile) or {@code target/crash-runs.md}.
 */
package dev.ferry.crash;
