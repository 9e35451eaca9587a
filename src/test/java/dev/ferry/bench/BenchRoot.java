package dev.ferry.bench;

import dev.ferry.proc.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A benchmark's temporary directory, and the promise that nothing of the benchmark outlives it:
 * closing it (or the JVM exiting, even on Ctrl-C) ends every process whose command line names the
 * directory (QEMU, swtpm and tools all get paths in it) and removes the directory.
 */
final class BenchRoot implements AutoCloseable {
    private static final Duration EXIT_WAIT = Duration.ofSeconds(10);

    private final Path dir;
    private final Thread hook;
    private boolean closed;

    private BenchRoot(Path dir) {
        this.dir = dir;
        this.hook = new Thread(this::cleanUp, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    static BenchRoot create(String prefix) throws IOException {
        return new BenchRoot(Files.createTempDirectory(prefix).toRealPath());
    }

    Path path() {
        return dir;
    }

    Path resolve(String name) {
        return dir.resolve(name);
    }

    /** The processes still running with this directory on their command line, as {@code pid: argv}. */
    List<String> leftovers() {
        String mark = dir.toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .map(p -> p.pid() + ": " + Processes.commandLine(p.pid()).orElse(""))
                .filter(line -> line.contains(mark))
                .toList();
    }

    @Override
    public void close() {
        cleanUp();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down already; the hook ran or will find nothing to do.
        }
    }

    private synchronized void cleanUp() {
        if (closed) {
            return;
        }
        closed = true;
        List<String> left = leftovers();
        if (!left.isEmpty()) {
            System.err.println("bench: ending " + left.size() + " process(es) left in " + dir + ":");
            left.forEach(l -> System.err.println("  " + l));
        }
        for (String line : left) {
            long pid = Long.parseLong(line.substring(0, line.indexOf(':')));
            Processes.kill(pid);
            try {
                Processes.awaitExit(pid, EXIT_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        try {
            deleteTree(dir);
        } catch (IOException e) {
            System.err.println("bench: could not remove " + dir + ": " + e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        for (int attempt = 1; Files.exists(root); attempt++) {
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (NoSuchFileException e) {
                // A daemon that was just exiting removed its own socket while we walked.
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }
}
