package dev.ferry.proc;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What to run: an argv (never a shell line) and how to run it. Immutable; each fluent method
 * returns a copy, e.g. {@code Command.of("qemu-img", "info", path).timeout(Duration.ofSeconds(5))}.
 *
 * <p>The child gets a clean environment: {@link #BASE_PATH}, {@code LANG=C.UTF-8}, the parent's
 * {@code HOME}, and only the variables added with {@link #env(String, String)}.
 *
 * @param argv          program and arguments, passed verbatim
 * @param workDir       working directory, or null for the parent's
 * @param env           variables added to (or replacing those of) the clean environment
 * @param timeout       how long the process may run before its whole group is killed; null for no limit
 * @param captureBytes  how many bytes of each stream are kept (the last ones)
 * @param stdoutLine    called with each stdout line, in order, from a reader thread; may be null
 * @param stderrLine    called with each stderr line, in order, from a reader thread; may be null
 * @param stdin         bytes fed to the child's stdin; null for an empty stdin
 * @param contained     whether everything the program starts ends with it (see {@link #containChildren()})
 */
public record Command(
        List<String> argv,
        Path workDir,
        Map<String, String> env,
        Duration timeout,
        int captureBytes,
        Consumer<String> stdoutLine,
        Consumer<String> stderrLine,
        byte[] stdin,
        boolean contained) {

    /** PATH of every child: system directories only, so a caller's PATH cannot change what runs. */
    public static final String BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Bytes kept of each stream unless {@link #captureBytes(int)} says otherwise. */
    public static final int DEFAULT_CAPTURE_BYTES = 64 * 1024;

    public Command {
        Objects.requireNonNull(argv, "argv");
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a command needs at least a program name");
        }
        for (int i = 0; i < argv.size(); i++) {
            if (argv.get(i) == null) {
                throw new IllegalArgumentException("argument " + i + " of " + argv + " is null");
            }
        }
        if (argv.get(0).isEmpty()) {
            throw new IllegalArgumentException("program name is empty in " + argv);
        }
        argv = List.copyOf(argv);
        env = Map.copyOf(env == null ? Map.of() : env);
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout of " + argv.get(0) + " must be positive, was " + timeout);
        }
        if (captureBytes <= 0) {
            throw new IllegalArgumentException("captureBytes of " + argv.get(0) + " must be positive, was " + captureBytes);
        }
        stdin = stdin == null ? null : stdin.clone();
    }

    public static Command of(String... argv) {
        return of(Arrays.asList(argv));
    }

    public static Command of(List<String> argv) {
        return new Command(argv, null, Map.of(), null, DEFAULT_CAPTURE_BYTES, null, null, null, false);
    }

    /** The program as named in argv, e.g. {@code qemu-img}. */
    public String program() {
        return argv.get(0);
    }

    public Command workDir(Path dir) {
        return new Command(argv, dir, env, timeout, captureBytes, stdoutLine, stderrLine, stdin, contained);
    }

    public Command env(String key, String value) {
        if (key == null || key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("invalid environment variable name '" + key + "' for " + program());
        }
        Objects.requireNonNull(value, () -> "value of environment variable " + key);
        Map<String, String> added = new LinkedHashMap<>(env);
        added.put(key, value);
        return new Command(argv, workDir, added, timeout, captureBytes, stdoutLine, stderrLine, stdin, contained);
    }

    public Command timeout(Duration limit) {
        return new Command(argv, workDir, env, limit, captureBytes, stdoutLine, stderrLine, stdin, contained);
    }

    public Command captureBytes(int bytes) {
        return new Command(argv, workDir, env, timeout, bytes, stdoutLine, stderrLine, stdin, contained);
    }

    public Command onStdoutLine(Consumer<String> listener) {
        return new Command(argv, workDir, env, timeout, captureBytes, listener, stderrLine, stdin, contained);
    }

    public Command onStderrLine(Consumer<String> listener) {
        return new Command(argv, workDir, env, timeout, captureBytes, stdoutLine, listener, stdin, contained);
    }

    public Command stdin(byte[] input) {
        return new Command(argv, workDir, env, timeout, captureBytes, stdoutLine, stderrLine, input, contained);
    }

    /**
     * Everything the program starts ends with it: it runs in a cgroup of its own (cgroup v2, where
     * the host has one the runner may write) that is killed whole when the program exits, is
     * killed or times out; without cgroup v2 its process group is killed then instead, and
     * {@link ProcResult#containment()} says which it was.
     */
    public Command containChildren() {
        return new Command(argv, workDir, env, timeout, captureBytes, stdoutLine, stderrLine, stdin, true);
    }

    /** Returns a copy, so the command stays immutable. */
    @Override
    public byte[] stdin() {
        return stdin == null ? null : stdin.clone();
    }

    @Override
    public String toString() {
        return "Command" + argv;
    }
}
