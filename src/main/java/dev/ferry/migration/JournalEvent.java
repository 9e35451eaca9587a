package dev.ferry.migration;

import java.util.Locale;

/** What a journal entry says happened. */
public enum JournalEvent {
    /** A phase begins (written before it acts). */
    ENTER,
    /** A device step begins (written before it acts). */
    START,
    /** A device step completed. */
    OK,
    /** A device step failed. */
    FAILED,
    /** A device step did not finish by its deadline and was stopped. */
    TIMED_OUT,
    /** A device step was stopped by an operator's cancel. */
    CANCELLED,
    /** A device said no at check. */
    REFUSED,
    /** A restarted agent settled the migration from its journal. */
    RECOVERED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static JournalEvent fromWireName(String s) {
        for (JournalEvent e : values()) {
            if (e.wireName().equals(s)) {
                return e;
            }
        }
        throw new IllegalArgumentException("Invalid journal event: '" + s + "'");
    }
}
