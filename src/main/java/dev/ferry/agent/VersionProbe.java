package dev.ferry.agent;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Asks a binary for its version ({@code BINARY --version}) and returns the first line it printed,
 * or empty when it could not be run. The agent asks once at start for QEMU and swtpm.
 */
@FunctionalInterface
public interface VersionProbe {
    Optional<String> firstLine(Path binary);

    /** A probe for builds that cannot run processes yet: every version reads as unknown. */
    VersionProbe NONE = binary -> Optional.empty();
}
