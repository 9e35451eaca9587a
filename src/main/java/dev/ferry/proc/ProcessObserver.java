package dev.ferry.proc;

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
     * waited for its output or touched its process group yet.
     */
    default void exited(Command command, long pid) {}

    /** The run is over; {@code result} is what the caller gets. */
    default void finished(Command command, ProcResult result) {}
}
