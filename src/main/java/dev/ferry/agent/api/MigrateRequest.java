package dev.ferry.agent.api;

import dev.ferry.agent.AgentException;
import dev.ferry.migration.MigrationParams;
import java.time.Duration;

/**
 * {@code POST /v1/migrations}: move {@code vm} to the peer {@code to} (a peer's name from the
 * config, or an agent URL). Optional fields fall back to the defaults of {@code MigrationParams}.
 */
public record MigrateRequest(String vm, String to, Boolean dryRun, Long downtimeMs, Long bandwidthMiB,
                             Boolean autoConverge, Long convergeTimeoutSeconds, Long stepDeadlineSeconds,
                             Long diskBandwidthMiB, Long stallTimeoutSeconds) {

    public MigrateRequest(String vm, String to, Boolean dryRun, Long downtimeMs, Long bandwidthMiB,
                          Boolean autoConverge, Long convergeTimeoutSeconds, Long stepDeadlineSeconds) {
        this(vm, to, dryRun, downtimeMs, bandwidthMiB, autoConverge, convergeTimeoutSeconds, stepDeadlineSeconds, null,
                null);
    }

    public MigrateRequest(String vm, String to, Boolean dryRun, Long downtimeMs, Long bandwidthMiB,
                          Boolean autoConverge, Long convergeTimeoutSeconds, Long stepDeadlineSeconds,
                          Long diskBandwidthMiB) {
        this(vm, to, dryRun, downtimeMs, bandwidthMiB, autoConverge, convergeTimeoutSeconds, stepDeadlineSeconds,
                diskBandwidthMiB, null);
    }

    /** The migration's parameters: what was given, the defaults for the rest; a bad value is the caller's error. */
    MigrationParams params() {
        MigrationParams d = MigrationParams.defaults();
        try {
            return new MigrationParams(
                    downtimeMs == null ? d.downtimeLimit() : Duration.ofMillis(downtimeMs),
                    bandwidthMiB == null ? d.bandwidthMiBps() : bandwidthMiB,
                    autoConverge == null ? d.autoConverge() : autoConverge,
                    convergeTimeoutSeconds == null ? d.convergeTimeout() : Duration.ofSeconds(convergeTimeoutSeconds),
                    stepDeadlineSeconds == null ? d.stepDeadline() : Duration.ofSeconds(stepDeadlineSeconds),
                    diskBandwidthMiB == null ? d.diskBandwidthMiBps() : diskBandwidthMiB,
                    stallTimeoutSeconds == null ? d.stallTimeout() : Duration.ofSeconds(stallTimeoutSeconds));
        } catch (IllegalArgumentException e) {
            throw new AgentException(AgentException.Kind.INVALID, e.getMessage(), e);
        }
    }
}
