/**
 * The only code in Ferry that starts processes.
 *
 * <p>A caller builds an immutable {@link dev.ferry.proc.Command} (argv, never a shell line) and
 * hands it to {@link dev.ferry.proc.ProcessRunner}. The runner checks that the program exists,
 * starts it through {@code setsid} in a clean environment so that it leads its own process group,
 * and starts one reader thread per output stream. Each reader keeps only the last bytes of its
 * stream and passes lines to the command's listeners. A watchdog kills the whole group with
 * SIGKILL when the timeout passes; {@link dev.ferry.proc.RunningProcess#await()} then returns a
 * {@link dev.ferry.proc.ProcResult} whose {@code describe()} is the one line to put in an error.
 *
 * <p>A command marked {@link dev.ferry.proc.Command#containChildren()} (every external migration
 * tool) takes everything it started with it when it ends: it runs in a cgroup v2 of its own,
 * created by {@code Cgroups} next to this JVM's cgroup and joined by a tiny launcher before the
 * command execs, and when the command exits, is killed or times out the whole cgroup is killed,
 * waited for and removed. Without a writable cgroup v2 the command's process group is killed
 * instead, and {@link dev.ferry.proc.ProcResult#containment()} says which it was.
 *
 * <p>{@link dev.ferry.proc.Processes} covers pids Ferry did not start in this JVM (daemons found
 * through pidfiles): liveness, signals, and the command line to check a pid was not recycled.
 */
package dev.ferry.proc;
