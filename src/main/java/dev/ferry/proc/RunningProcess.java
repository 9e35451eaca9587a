package dev.ferry.proc;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A process started by {@link ProcessRunner#start}; it leads its own process group. */
public final class RunningProcess {
    private static final Logger log = LoggerFactory.getLogger(RunningProcess.class);

    /**
     * After the child exits, how long its output may take to reach end of file. A grandchild that
     * kept the pipes open (a background job) would otherwise hold the caller forever.
     */
    private static final long DRAIN_GRACE_MILLIS = 1000;

    private final Command command;
    private final Process process;
    private final long startNanos = System.nanoTime();
    private final StreamPump stdout;
    private final StreamPump stderr;
    private final ScheduledFuture<?> watchdog;
    private final Containment containment;
    private final Cgroups.Cgroup cgroup;
    private final ProcessObserver observer;
    private volatile long exitNanos;
    private volatile boolean timedOut;
    private ProcResult result;

    RunningProcess(Command command, Process process, ScheduledExecutorService watchdogs, Containment containment,
                   Cgroups.Cgroup cgroup, ProcessObserver observer) {
        this.command = command;
        this.process = process;
        this.containment = containment;
        this.cgroup = cgroup;
        this.observer = observer;
        String name = "proc-" + process.pid();
        this.stdout = StreamPump.start(name + "-stdout", process.getInputStream(), command.captureBytes(), command.stdoutLine());
        this.stderr = StreamPump.start(name + "-stderr", process.getErrorStream(), command.captureBytes(), command.stderrLine());
        if (command.stdin() != null) {
            feedStdin(name, command.stdin());
        }
        process.onExit().thenRun(() -> exitNanos = System.nanoTime());
        if (cgroup != null && observer == ProcessObserver.NONE) {
            // Its children end when it does, whether or not anyone awaits it; await() also does this
            // before it returns, so an awaiting caller sees them gone. An observer must see what the
            // process left before anything kills it, so with one only await() ends them.
            process.onExit().thenRunAsync(this::endCgroupQuietly);
        }
        this.watchdog = command.timeout() == null ? null
                : watchdogs.schedule(this::timeOut, command.timeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * The child's pid, which is also its process group id. For an instant after start the pid
     * still runs the launcher ({@code setsid}) before it becomes the program itself.
     */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the process to end and returns how it ended. */
    public ProcResult await() throws InterruptedException {
        process.waitFor();
        return finish();
    }

    /** Waits at most {@code limit}; empty if the process is still running then. */
    public Optional<ProcResult> await(Duration limit) throws InterruptedException {
        if (!process.waitFor(limit.toNanos(), TimeUnit.NANOSECONDS)) {
            return Optional.empty();
        }
        return Optional.of(finish());
    }

    /**
     * Kills the whole process group with SIGKILL: the child and everything it started (for a
     * contained command, everything in its cgroup too).
     */
    public void kill() {
        if (cgroup != null) {
            cgroup.killAll();
        }
        ProcessGroups.killGroup(process.pid());
        // Covers the instant before setsid made the child a group leader.
        process.destroyForcibly();
    }

    /** What the command left running: its cgroup or its process group, killed now that it ended. */
    private void endWhatItStarted() throws InterruptedException {
        if (cgroup != null) {
            cgroup.killAndRemove();
        } else if (containment == Containment.PROCESS_GROUP) {
            ProcessGroups.killGroup(process.pid());
        }
    }

    /** Ends a cgroup's processes and removes it, when nobody awaits the command (its caller was interrupted). */
    private void endCgroupQuietly() {
        try {
            cgroup.killAndRemove();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void timeOut() {
        if (process.isAlive()) {
            timedOut = true;
            log.warn("{} (pid {}) timed out after {}, killing its process group",
                    command.program(), process.pid(), ProcResult.format(command.timeout()));
            kill();
        }
    }

    private synchronized ProcResult finish() throws InterruptedException {
        if (result != null) {
            return result;
        }
        if (watchdog != null) {
            watchdog.cancel(false);
        }
        // First, before anything reaps what the process left: the observer may be looking for exactly that.
        observer.exited(command, process.pid(), cgroup != null ? cgroup.pids() : List.of());
        endWhatItStarted();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_GRACE_MILLIS);
        boolean drained = stdout.awaitEnd(DRAIN_GRACE_MILLIS)
                & stderr.awaitEnd(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        if (!drained) {
            log.debug("{} (pid {}) exited but something it started still holds its output open",
                    command.program(), process.pid());
        }
        int exit = process.exitValue();
        Integer signal = exit > 128 && exit <= 128 + 64 ? exit - 128 : null;
        long end = exitNanos != 0 ? exitNanos : System.nanoTime();
        result = new ProcResult(command.argv(), exit, signal, timedOut, stdout.output(), stderr.output(),
                Duration.ofNanos(end - startNanos), containment);
        observer.finished(command, result);
        return result;
    }

    private void feedStdin(String name, byte[] input) {
        Thread writer = new Thread(() -> {
            try (OutputStream out = process.getOutputStream()) {
                out.write(input);
            } catch (IOException e) {
                // The child closed its stdin early or died; what it read is its business.
                log.debug("{}: stdin not fully written: {}", name, e.toString());
            }
        }, name + "-stdin");
        writer.setDaemon(true);
        writer.start();
    }

    @Override
    public String toString() {
        return "RunningProcess[pid=" + process.pid() + ", " + command.argv() + "]";
    }
}
