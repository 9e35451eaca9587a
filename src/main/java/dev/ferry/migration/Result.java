package dev.ferry.migration;

import java.util.Locale;

/** How a migration ended. */
public enum Result {
    /** The VM runs on the destination. */
    COMPLETED,
    /** A dry run in which every check passed; nothing was started. */
    CHECKED,
    /** Something said no at CHECK; nothing was started. */
    REFUSED,
    /** A failure or a cancel was undone; the VM is where it was, as it was. */
    ROLLED_BACK,
    /** Something could not be finished or undone; the report says what and where the VM is. */
    FAILED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    Phase finalPhase() {
        return switch (this) {
            case COMPLETED -> Phase.COMPLETED;
            case CHECKED -> Phase.CHECKED;
            case REFUSED -> Phase.REFUSED;
            case ROLLED_BACK -> Phase.ROLLED_BACK;
            case FAILED -> Phase.FAILED;
        };
    }
}
