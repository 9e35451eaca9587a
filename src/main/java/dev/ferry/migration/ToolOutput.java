package dev.ferry.migration;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.ToolCall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the external tools of one migration printed, call by call, for
 * {@code ferry migration show ID --tool-output}. Kept apart from the report, which stays small:
 * the newest calls are kept, up to {@link #MAX_CHARS} characters of output in all; {@code dropped}
 * counts the older calls that made room.
 */
public record ToolOutput(String migration, List<ToolCall> calls, int dropped) {
    private static final Logger log = LoggerFactory.getLogger(ToolOutput.class);
    static final long MAX_CHARS = 1024 * 1024;

    public ToolOutput {
        calls = List.copyOf(calls);
    }

    /** Where a source keeps the tool output of a migration that ended. */
    static Path file(Path keptLogs, String migrationId) {
        return keptLogs.resolve("migration-" + migrationId + ".tool-output.json");
    }

    /** Writes the output next to the kept serial logs; a failure is logged, the migration's result stands. */
    void write(Path file, ObjectMapper json) {
        try {
            Files.createDirectories(file.getParent());
            Path part = file.resolveSibling(file.getFileName() + ".part");
            json.writeValue(part.toFile(), this);
            Files.move(part, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            log.warn("migration {}: cannot keep its tool output at {}: {}", migration, file, e.toString());
        }
    }

    static Optional<ToolOutput> read(Path file, ObjectMapper json) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(json.readValue(file.toFile(), ToolOutput.class));
        } catch (IOException e) {
            throw new IllegalStateException("Invalid tool output file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Collects a running migration's tool calls as they end, keeping the newest within {@link #MAX_CHARS}. */
    static final class Collector {
        private final ArrayDeque<ToolCall> calls = new ArrayDeque<>();
        private long chars;
        private int dropped;

        synchronized void add(ToolCall call) {
            calls.addLast(call);
            chars += call.size();
            while (chars > MAX_CHARS && calls.size() > 1) {
                chars -= calls.removeFirst().size();
                dropped++;
            }
        }

        synchronized boolean isEmpty() {
            return calls.isEmpty() && dropped == 0;
        }

        synchronized ToolOutput snapshot(String migrationId) {
            return new ToolOutput(migrationId, List.copyOf(calls), dropped);
        }
    }
}
