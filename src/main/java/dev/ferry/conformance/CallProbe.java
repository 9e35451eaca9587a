package dev.ferry.conformance;

import dev.ferry.device.ToolDialect;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessObserver;
import dev.ferry.proc.Processes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches each run of the tool: gives it the scratch directory as working directory, {@code HOME}
 * and {@code TMPDIR}, and a marker variable of its own; the moment the tool exits, before anything
 * reaps its process group, finds every process that still carries the marker, notes and kills it.
 * When it finished, hands the result to the call and reads the output against the contract.
 */
final class CallProbe implements ProcessObserver {
    /** The variable that marks every process of one call, and everything that inherits its environment. */
    static final String MARKER = "FERRY_TOOL_CHECK_CALL";
    private static final int MAX_ROUNDS = 10;

    private final ThreadLocal<CheckedCall> current = new ThreadLocal<>();
    private final AtomicLong calls = new AtomicLong();
    private final String runToken = Long.toHexString(System.nanoTime()) + "-" + ProcessHandle.current().pid();
    private final Scratch scratch;
    private final ToolDialect dialect;
    private final int outputCap;

    CallProbe(Scratch scratch, ToolDialect dialect, int outputCap) {
        this.scratch = scratch;
        this.dialect = dialect;
        this.outputCap = outputCap;
    }

    /** Attributes the processes this thread starts to {@code call} until {@link #end}. */
    void begin(CheckedCall call) {
        current.set(call);
    }

    void end() {
        current.remove();
    }

    @Override
    public Command starting(Command command) {
        CheckedCall call = current.get();
        if (call == null) {
            return command;
        }
        call.argv(command.argv());
        return command.workDir(scratch.work())
                .env("HOME", scratch.home().toString())
                .env("TMPDIR", scratch.tmp().toString())
                .env(MARKER, runToken + "-" + calls.incrementAndGet());
    }

    @Override
    public void exited(Command command, long pid, List<Long> contained) {
        CheckedCall call = current.get();
        String marker = command.env().get(MARKER);
        if (call == null || marker == null) {
            return;
        }
        // Again until none is found: a leftover may start another before it is killed.
        Set<Long> killed = new HashSet<>();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            List<Long> found = new ArrayList<>(Processes.withEnvironment(MARKER, marker));
            if (round == 0) {
                // A zombie in the cgroup (an exited grandchild its new parent has not reaped yet) left nothing running.
                contained.stream().filter(p -> !found.contains(p) && Processes.isAlive(p)).forEach(found::add);
            }
            found.removeIf(p -> p == pid || killed.contains(p));
            if (found.isEmpty()) {
                break;
            }
            for (long left : found) {
                call.leftover("pid " + left + " " + describe(left));
                Processes.kill(left);
                killed.add(left);
            }
        }
        if (!killed.isEmpty()) {
            call.problem("left a process running after the tool exited (the check killed it); wait for everything"
                    + " the tool starts, or hand long work to a service of its own");
        }
    }

    @Override
    public void finished(Command command, ProcResult result) {
        CheckedCall call = current.get();
        if (call == null) {
            return;
        }
        call.result(result);
        OutputContract.breaches(dialect, result, outputCap).forEach(call::problem);
    }

    /**
     * The leftover's command line; a process caught inside an exec reads an empty one for an
     * instant, so it is read again for a little while before it is given up on.
     */
    private static String describe(long pid) {
        for (int attempt = 0; attempt < 100; attempt++) {
            Optional<String> line = Processes.commandLine(pid);
            if (line.isPresent()) {
                return line.get();
            }
            if (!Processes.isAlive(pid)) {
                return "(exited)";
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
        return "(command line unreadable)";
    }
}
