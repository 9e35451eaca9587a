package dev.ferry.agent.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An external migration tool for one device type, as configured under {@code tools.<type>}.
 * Migration runs it; the agent only validates it at start so a bad path is found early.
 *
 * @param concurrent a xen-dialect tool whose author declared it safe under Ferry's sequence
 *                   (concurrent steps 0, 2 and 3; recovery of started devices, newest first)
 *                   instead of xend's; never set for the ferry dialect
 */
public record ToolConfig(Path path, Dialect dialect, Map<Step, Duration> timeouts, boolean concurrent) {

    /** How the tool expects to be called (see the design's "External tool contract"). */
    public enum Dialect {
        /** {@code TOOL --step check|pre-suspend|... --device-type T ...}. */
        FERRY,
        /** The historical xend line: {@code TOOL -type CLASS -step N -host DEST -domname NAME}. */
        XEN;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The device migration steps a tool takes part in, each with its own timeout. */
    public enum Step {
        CHECK(Duration.ofSeconds(30)),
        PRE_SUSPEND(Duration.ofMinutes(5)),
        POST_SUSPEND(Duration.ofSeconds(60)),
        SYNC(Duration.ofSeconds(60)),
        RECOVER(Duration.ofMinutes(5));

        private final Duration defaultTimeout;

        Step(Duration defaultTimeout) {
            this.defaultTimeout = defaultTimeout;
        }

        public Duration defaultTimeout() {
            return defaultTimeout;
        }

        /** The name used in the configuration and on the tool's command line, e.g. {@code pre-suspend}. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public ToolConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(dialect, "dialect");
        EnumMap<Step, Duration> all = new EnumMap<>(Step.class);
        for (Step s : Step.values()) {
            all.put(s, timeouts.getOrDefault(s, s.defaultTimeout()));
        }
        timeouts = Map.copyOf(all);
    }

    /** A tool that follows its dialect's own sequence. */
    public ToolConfig(Path path, Dialect dialect, Map<Step, Duration> timeouts) {
        this(path, dialect, timeouts, false);
    }

    public Duration timeout(Step step) {
        return timeouts.get(step);
    }
}
