package dev.ferry.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where a lab's separate agent JVMs write their logs when the test does not say: under
 * {@code target/lab-logs}, one directory per lab named after the test class that made it and when,
 * so that the logs of a test that failed are still there after its temporary directory is gone.
 */
final class LabLogs {
    private static final Path BASE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize()
            .resolve("target").resolve("lab-logs");
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private LabLogs() {
    }

    static Path newDirectory() throws IOException {
        String name = callerClass() + "-" + LocalDateTime.now().format(STAMP) + "-" + SEQUENCE.incrementAndGet();
        Path dir = Files.createDirectories(BASE.resolve(name));
        System.out.println("lab: agent logs in " + dir);
        return dir;
    }

    /** The simple name of the first class on the stack outside the lab: the test that starts it. */
    private static String callerClass() {
        return StackWalker.getInstance().walk(frames -> frames
                .map(StackWalker.StackFrame::getClassName)
                .filter(name -> !name.startsWith(LabLogs.class.getPackageName() + "."))
                .findFirst()
                .map(name -> name.substring(name.lastIndexOf('.') + 1).replaceAll("[^A-Za-z0-9_]", "_"))
                .orElse("lab"));
    }
}
