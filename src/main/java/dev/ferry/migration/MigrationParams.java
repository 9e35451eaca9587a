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
 * @param stallTimeout     how long a RAM or disk copy may make no progress, and how long the source waits for
 *                         an answer from its QEMU or the destination agent, before it names the stalled side
 *                         and rolls back (requests that start or stop QEMU on the destination get
 *                         {@link #peerWorkTimeout()})
 */
public record MigrationParams(Duration downtimeLimit, long bandwidthMiBps, boolean autoConverge,
                              Duration convergeTimeout, Duration stepDeadline, long diskBandwidthMiBps,
                              Duration stallTimeout) {

    /** The stall timeout when none is given: long enough for a loaded host, short enough to act on. */
    public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(10);

    /** How many stall timeouts a destination request that starts or stops a QEMU may take. */
    private static final int PEER_WORK_FACTOR = 6;

    public MigrationParams(Duration downtimeLimit, long bandwidthMiBps, boolean autoConverge,
                           Duration convergeTimeout, Duration stepDeadline, long diskBandwidthMiBps) {
        this(downtimeLimit, bandwidthMiBps, autoConverge, convergeTimeout, stepDeadline, diskBandwidthMiBps,
                DEFAULT_STALL_TIMEOUT);
    }

    public MigrationParams(Duration downtimeLimit, long bandwidthMiBps, boolean autoConverge,
                           Duration convergeTimeout, Duration stepDeadline) {
        this(downtimeLimit, bandwidthMiBps, autoConverge, convergeTimeout, stepDeadline, 0, DEFAULT_STALL_TIMEOUT);
    }

    /** How long the destination may take to answer prepare, switchover or abort, which start or stop its QEMU. */
    public Duration peerWorkTimeout() {
        return stallTimeout.multipliedBy(PEER_WORK_FACTOR);
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
        if (stallTimeout == null || stallTimeout.toMillis() < 1000) {
            throw new IllegalArgumentException("stall timeout must be at least 1 s, was "
                    + (stallTimeout == null ? "missing" : stallTimeout.toMillis() + " ms"));
        }
    }
}
