package dev.ferry.migration;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
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

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @JsonCreator
    public static Result fromWireName(String s) {
        for (Result r : values()) {
            if (r.wireName().equals(s)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown migration result '" + s + "'");
    }

    /** The result whose final phase is {@code phase}. */
    public static Result ofFinalPhase(Phase phase) {
        for (Result r : values()) {
            if (r.finalPhase() == phase) {
                return r;
            }
        }
        throw new IllegalArgumentException("Invalid final phase: " + phase);
    }

    public Phase finalPhase() {
        return switch (this) {
            case COMPLETED -> Phase.COMPLETED;
            case CHECKED -> Phase.CHECKED;
            case REFUSED -> Phase.REFUSED;
            case ROLLED_BACK -> Phase.ROLLED_BACK;
            case FAILED -> Phase.FAILED;
        };
    }
}
