/**
 * Benchmarks: programs with a {@code main} method, not tests. They start real agents and real QEMU
 * guests on this machine, print what they measured and assert nothing; run one with
 * {@code scripts/bench CLASS}.
 *
 * <p>How the pieces fit: a benchmark opens a {@link dev.ferry.bench.BenchRoot} (a temporary
 * directory that, when closed or when the JVM exits, ends every process whose command line names
 * it and removes it), builds the test guest's spec with {@link dev.ferry.bench.BenchGuest}, starts
 * two in-process agents with the tests' {@link dev.ferry.lab.Lab} and talks to them over HTTP through
 * its {@link dev.ferry.lab.Api}; each completed migration's report becomes a {@link
 * dev.ferry.bench.FerryRun}. {@link dev.ferry.bench.BareMigration} migrates a VM with QEMU alone,
 * over QMP, as the floor to compare with. Numbers go through {@link dev.ferry.bench.Samples} for medians.
 */
package dev.ferry.bench;
