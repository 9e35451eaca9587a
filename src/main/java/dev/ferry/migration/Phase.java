package dev.ferry.migration;

import java.util.Locale;

/**
 * The phases of one migration, in the order the source drives them. Each is written to the
 * journal before it acts; the journal never goes backwards (see {@link #canFollow}).
 */
public enum Phase {
    /** Device verdicts and destination checks; no side effects anywhere. */
    CHECK,
    /** The destination creates backends and starts an incoming QEMU. */
    PREPARE,
    /** Device step 1 on the source; the guest runs. */
    PRE_SUSPEND,
    /** QEMU copies RAM while the guest runs, until it pauses the guest before switchover. */
    RAM_COPY,
    /** Device step 2, all devices concurrently; the guest is paused. */
    POST_SUSPEND,
    /** Device step 3: wait for step 2's work, then let QEMU finish. */
    SYNC,
    /** The destination records ownership and resumes the guest: the point of no return. */
    SWITCHOVER,
    /** The source quits its QEMU and releases its backends. */
    CLEANUP,
    /** A failure or a cancel is being undone. */
    ROLLING_BACK,
    /** Final: the VM runs on the destination. */
    COMPLETED,
    /** Final: a dry run found no blocker; nothing was started. */
    CHECKED,
    /** Final: a device or the destination said no at CHECK; nothing was started. */
    REFUSED,
    /** Final: a failure was undone; the VM is where it was. */
    ROLLED_BACK,
    /** Final: something could not be undone or finished; the report says what and where the VM is. */
    FAILED;

    public boolean isFinal() {
        return ordinal() >= COMPLETED.ordinal();
    }

    /** Whether the VM now belongs to the destination (the source must never resume it). */
    public boolean pastPointOfNoReturn() {
        return this == SWITCHOVER || this == CLEANUP || this == COMPLETED;
    }

    /** Whether {@code next} may be journaled after this phase. */
    public boolean canFollow(Phase next) {
        if (isFinal()) {
            return false;
        }
        if (next.isFinal()) {
            return true;
        }
        if (next == ROLLING_BACK) {
            return !pastPointOfNoReturn();
        }
        return this != ROLLING_BACK && next.ordinal() > ordinal() && next.ordinal() <= CLEANUP.ordinal();
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
