package dev.ferry.migration;

import java.time.Duration;

/**
 * Tuning of one migration.
 *
 * @param downtimeLimit    QEMU's allowed downtime for the final RAM copy
 * @param bandwidthMiBps   QEMU's bandwidth cap in MiB/s, 0 for QEMU's default
 * @param autoConverge     let QEMU throttle the guest's vCPUs when RAM does not converge
 * @param convergeTimeout  give up (and roll back) when QEMU has not reached switchover by then
 * @param stepDeadline     how long post-suspend and sync may take, for all devices together
 * @param diskBandwidthMiBps a cap on copying local disks in MiB/s, 0 for none
 */
public record MigrationParams(Duration downtimeLimit, long bandwidthMiBps, boolean autoConverge,
                              Duration convergeTimeout, Duration stepDeadline, long diskBandwidthMiBps) {

    public MigrationParams(Duration downtimeLimit, long bandwidthMiBps, boolean autoConverge,
                           Duration convergeTimeout, Duration stepDeadline) {
        this(downtimeLimit, bandwidthMiBps, autoConverge, convergeTimeout, stepDeadline, 0);
    }

    public static MigrationParams defaults() {
        return new MigrationParams(Duration.ofMillis(300), 0, true, Duration.ofMinutes(5), Duration.ofSeconds(60));
    }

    public MigrationParams {
        if (downtimeLimit.isNegative() || downtimeLimit.isZero()) {
            throw new IllegalArgumentException("downtime limit must be positive, was " + downtimeLimit.toMillis() + " ms");
        }
        if (bandwidthMiBps < 0) {
            throw new IllegalArgumentException("bandwidth must be 0 (QEMU's default) or a positive MiB/s, was " + bandwidthMiBps);
        }
        if (convergeTimeout.isNegative() || convergeTimeout.isZero()) {
            throw new IllegalArgumentException("converge timeout must be positive");
        }
        if (diskBandwidthMiBps < 0) {
            throw new IllegalArgumentException("disk bandwidth must be 0 (no cap) or a positive MiB/s, was " + diskBandwidthMiBps);
        }
        if (stepDeadline.isNegative() || stepDeadline.isZero()) {
            throw new IllegalArgumentException("step deadline must be positive");
        }
    }
}
