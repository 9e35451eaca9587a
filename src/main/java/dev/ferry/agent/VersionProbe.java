package dev.ferry.agent;

import java.nio.file.Path;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * Asks a binary for its version ({@code BINARY --version}) and returns the first line it printed,
 * or empty when it could not be run. The agent asks once at start for QEMU and swtpm.
 */
@FunctionalInterface
public interface VersionProbe {
    Optional<String> firstLine(Path binary);

    /** A probe that knows no version (tests). */
    VersionProbe NONE = binary -> Optional.empty();

    /** Runs {@code BINARY --version} and keeps its first line; unknown when it does not run. */
    static VersionProbe running(ProcessRunner runner) {
        return binary -> {
            try {
                ProcResult r = runner.run(Command.of(binary.toString(), "--version").timeout(Duration.ofSeconds(10)));
                String first = r.stdout().text().lines().findFirst().orElse("").strip();
                return r.ok() && !first.isEmpty() ? Optional.of(first) : Optional.empty();
            } catch (IOException e) {
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        };
    }
}
