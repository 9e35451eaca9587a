package dev.ferry.proc;

import java.util.List;

/**
 * Watches every process one {@link ProcessRunner} starts, for code that examines other programs
 * (the tool conformance check) rather than relying on them. The runner calls it from the thread
 * that starts or awaits the process.
 */
public interface ProcessObserver {

    /** Observes nothing and changes nothing. */
    ProcessObserver NONE = new ProcessObserver() {};

    /** Just before start: returns the command to run, which may carry an added variable or working directory. */
    default Command starting(Command command) {
        return command;
    }

    /**
     * The main process ({@code pid}) has exited. Whatever it started may still run: nothing has
     * waited for its output or touched its process group yet. {@code contained}: the processes
     * still in the command's cgroup, empty when it runs without one. A search by marker variable
     * alone can miss a child caught in the middle of an exec, whose environment reads empty for
     * that instant; the cgroup's list cannot.
     */
    default void exited(Command command, long pid, List<Long> contained) {}

    /** The run is over; {@code result} is what the caller gets. */
    default void finished(Command command, ProcResult result) {}
}
