package dev.ferry.agent;

/**
 * {@code POST /v1/migrations}: move {@code vm} to the peer {@code to} (a peer's name from the
 * config, or an agent URL). Optional fields fall back to the defaults of {@code MigrationParams}.
 */
public record MigrateRequest(String vm, String to, Boolean dryRun, Long downtimeMs, Long bandwidthMiB,
                             Boolean autoConverge, Long convergeTimeoutSeconds, Long stepDeadlineSeconds,
                             Long diskBandwidthMiB) {

    public MigrateRequest(String vm, String to, Boolean dryRun, Long downtimeMs, Long bandwidthMiB,
                          Boolean autoConverge, Long convergeTimeoutSeconds, Long stepDeadlineSeconds) {
        this(vm, to, dryRun, downtimeMs, bandwidthMiB, autoConverge, convergeTimeoutSeconds, stepDeadlineSeconds, null);
    }
}
