package dev.ferry.proc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Processes this JVM did not start through {@link ProcessRunner}, such as QEMU and swtpm daemons
 * found again through their pidfiles. Check {@link #commandLine} before signalling a pid read from
 * a file: after a reboot or a long time the pid may belong to something else.
 */
public final class Processes {
    private static final long POLL_MILLIS = 20;

    private Processes() {
    }

    /** Whether {@code pid} names a running process; a zombie (exited, not yet reaped) is not running. */
    public static boolean isAlive(long pid) {
        char state = state(pid);
        return state != '?' && state != 'Z' && state != 'X';
    }

    /**
     * Whether {@code pid} is stopped by a signal (SIGSTOP, SIGTSTP) or a tracer: it cannot answer
     * anything until it is continued, though it still counts as alive.
     */
    public static boolean isStopped(long pid) {
        char state = state(pid);
        return state == 'T' || state == 't';
    }

    /** The process's state letter from /proc/PID/stat, '?' when it is gone. */
    private static char state(long pid) {
        if (pid <= 0) {
            return '?';
        }
        Optional<String> stat = read(pid, "stat").map(bytes -> new String(bytes, StandardCharsets.UTF_8));
        if (stat.isEmpty()) {
            return '?';
        }
        // The state follows the command name, which is in parentheses and may itself hold ") ".
        String text = stat.get();
        int close = text.lastIndexOf(')');
        return close >= 0 && close + 2 < text.length() ? text.charAt(close + 2) : '?';
    }

    /** Sends SIGTERM; does nothing if the process is gone already. */
    public static void terminate(long pid) {
        checkPid(pid);
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
    }

    /** Sends SIGKILL; does nothing if the process is gone already. */
    public static void kill(long pid) {
        checkPid(pid);
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    /** Waits until {@code pid} has exited; false if it still runs after {@code limit}. */
    public static boolean awaitExit(long pid, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (isAlive(pid)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            // Polling: a process that is not our child gives no exit notification to wait on.
            Thread.sleep(Math.min(POLL_MILLIS, Math.max(1, left / 1_000_000)));
        }
        return true;
    }

    /** The arguments of {@code pid} joined by spaces, from /proc; empty if it is gone or a zombie. */
    public static Optional<String> commandLine(long pid) {
        return arguments(pid).map(args -> String.join(" ", args));
    }

    /** The argv of {@code pid} as the kernel holds it; empty if it is gone or a zombie. */
    public static Optional<List<String>> arguments(long pid) {
        if (pid <= 0) {
            return Optional.empty();
        }
        return read(pid, "cmdline").filter(bytes -> bytes.length > 0).map(Processes::splitNul);
    }

    /**
     * The running processes whose environment holds {@code key=value}: a marker given to a program
     * finds everything it started, even what left its process group. Only processes of this user
     * can be read; zombies are left out.
     */
    public static List<Long> withEnvironment(String key, String value) {
        String wanted = key + "=" + value;
        List<Long> found = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path dir : proc) {
                long pid = Long.parseLong(dir.getFileName().toString());
                Optional<byte[]> env = read(pid, "environ");
                if (env.isPresent() && splitNul(env.get()).contains(wanted)
                        && isAlive(pid)) {
                    found.add(pid);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc: " + e.getMessage(), e);
        }
        return found;
    }

    private static List<String> splitNul(byte[] bytes) {
        List<String> args = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                args.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < bytes.length) {
            args.add(new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8));
        }
        return List.copyOf(args);
    }

    private static Optional<byte[]> read(long pid, String file) {
        try {
            return Optional.of(Files.readAllBytes(Path.of("/proc", Long.toString(pid), file)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            // The process exited between the lookup and the read (ESRCH), or is not ours to see.
            return Optional.empty();
        }
    }

    private static void checkPid(long pid) {
        if (pid <= 1 || pid == ProcessHandle.current().pid()) {
            throw new IllegalArgumentException("refusing to signal pid " + pid);
        }
    }
}
