package dev.ferry.proc;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * How a process ended.
 *
 * <p>Java reports a death by signal N as exit code 128+N, just as a shell does for its children;
 * a program cannot be told apart from one that called {@code exit(128+N)}, so such exit codes are
 * reported as signal N too (the exit code keeps the raw 128+N).
 *
 * @param argv      the command that ran
 * @param exitCode  the exit status as Java reports it
 * @param signal    the signal that killed the process, or null
 * @param timedOut  whether the runner killed it because its timeout passed
 * @param stdout    what it wrote to stdout (the tail)
 * @param stderr    what it wrote to stderr (the tail)
 * @param elapsed   from start to exit
 * @param containment what ended the processes it started when it ended
 */
public record ProcResult(
        List<String> argv,
        int exitCode,
        Integer signal,
        boolean timedOut,
        Output stdout,
        Output stderr,
        Duration elapsed,
        Containment containment) {

    public ProcResult {
        argv = List.copyOf(argv);
    }

    /** The result of a command that was not contained. */
    public ProcResult(List<String> argv, int exitCode, Integer signal, boolean timedOut, Output stdout, Output stderr,
                      Duration elapsed) {
        this(argv, exitCode, signal, timedOut, stdout, stderr, elapsed, Containment.NONE);
    }

    /** Exit 0, no signal, no timeout. */
    public boolean ok() {
        return exitCode == 0 && signal == null && !timedOut;
    }

    /**
     * One line for logs and error messages: {@code qemu-img exited 1: <last stderr line>},
     * {@code swtpm killed by signal 9}, {@code tool timed out after 5s}.
     */
    public String describe() {
        String name = programName();
        if (timedOut) {
            return name + " timed out after " + format(elapsed);
        }
        if (signal != null) {
            return name + " killed by signal " + signal;
        }
        String last = stderr.lastLine();
        if (last.isEmpty() && exitCode != 0) {
            last = stdout.lastLine();
        }
        return last.isEmpty() ? name + " exited " + exitCode : name + " exited " + exitCode + ": " + last;
    }

    private String programName() {
        Path file = Path.of(argv.get(0)).getFileName();
        return file == null ? argv.get(0) : file.toString();
    }

    static String format(Duration d) {
        long millis = d.toMillis();
        if (millis < 1000) {
            return millis + "ms";
        }
        String seconds = String.format(Locale.ROOT, "%.1f", millis / 1000.0);
        return (seconds.endsWith(".0") ? seconds.substring(0, seconds.length() - 2) : seconds) + "s";
    }
}
