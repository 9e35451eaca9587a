package dev.ferry.migration;

import dev.ferry.device.Step;
import java.util.Locale;

/** The device step a journal entry is about: one of the four steps, a recovery, or the after-resume hook. */
public enum JournalStep {
    CHECK,
    PRE_SUSPEND,
    POST_SUSPEND,
    SYNC,
    /** Undoing what the device started. */
    RECOVER,
    /** The device's hook after the guest resumed on the destination. */
    AFTER_RESUME;

    public static JournalStep of(Step step) {
        return switch (step) {
            case CHECK -> CHECK;
            case PRE_SUSPEND -> PRE_SUSPEND;
            case POST_SUSPEND -> POST_SUSPEND;
            case SYNC -> SYNC;
        };
    }

    /** The device step this entry is about, or null for recover and after-resume. */
    public Step deviceStep() {
        return switch (this) {
            case CHECK -> Step.CHECK;
            case PRE_SUSPEND -> Step.PRE_SUSPEND;
            case POST_SUSPEND -> Step.POST_SUSPEND;
            case SYNC -> Step.SYNC;
            case RECOVER, AFTER_RESUME -> null;
        };
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static JournalStep fromWireName(String s) {
        for (JournalStep st : values()) {
            if (st.wireName().equals(s)) {
                return st;
            }
        }
        throw new IllegalArgumentException("Invalid journal step: '" + s + "'");
    }
}
