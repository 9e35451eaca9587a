package dev.ferry.device;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * An external migration tool as the agent's config names it: which executable, which dialect,
 * how long each step may take, how much of its output to keep, and, for a xen-dialect tool,
 * whether its author declared it safe under Ferry's concurrent steps ({@code concurrent: true}).
 */
public record ToolSpec(Path executable, ToolDialect dialect, Map<Step, Duration> stepTimeouts,
                       Duration defaultTimeout, int outputCapBytes, boolean concurrentSteps) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_OUTPUT_CAP = 64 * 1024;

    public ToolSpec {
        Objects.requireNonNull(executable, "executable");
        Objects.requireNonNull(dialect, "dialect");
        stepTimeouts = stepTimeouts.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(stepTimeouts));
        if (defaultTimeout.isZero() || defaultTimeout.isNegative()) {
            throw new IllegalArgumentException("tool " + executable + ": timeout must be positive");
        }
        if (outputCapBytes < 1024) {
            throw new IllegalArgumentException("tool " + executable + ": output cap must be at least 1024 bytes");
        }
        if (concurrentSteps && dialect == ToolDialect.FERRY) {
            throw new IllegalArgumentException("tool " + executable + ": concurrent steps apply only to the xen dialect;"
                    + " the ferry dialect always runs steps 0, 2 and 3 concurrently");
        }
    }

    /** A tool that follows its dialect's own sequence. */
    public ToolSpec(Path executable, ToolDialect dialect, Map<Step, Duration> stepTimeouts, Duration defaultTimeout,
                    int outputCapBytes) {
        this(executable, dialect, stepTimeouts, defaultTimeout, outputCapBytes, false);
    }

    public static ToolSpec of(Path executable, ToolDialect dialect) {
        return new ToolSpec(executable, dialect, Map.of(), DEFAULT_TIMEOUT, DEFAULT_OUTPUT_CAP);
    }

    /** The sequence this tool's devices need: xend's for a xen-dialect tool, unless it opted into Ferry's. */
    public StepSequence sequence() {
        return dialect == ToolDialect.XEN && !concurrentSteps ? StepSequence.XEND : StepSequence.FERRY;
    }

    /** The time a step (or recovery, when {@code step} is null) may take. */
    public Duration timeout(Step step) {
        return step == null ? defaultTimeout : stepTimeouts.getOrDefault(step, defaultTimeout);
    }
}
