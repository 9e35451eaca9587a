package dev.ferry.migration;

import java.util.Locale;

/** Which side of a migration this host plays. */
public enum Role {
    /** Drives the migration; the VM leaves this host. */
    SOURCE,
    /** Prepares, receives and takes over the VM. */
    DESTINATION;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role fromWireName(String s) {
        for (Role r : values()) {
            if (r.wireName().equals(s)) {
                return r;
            }
        }
        throw new IllegalArgumentException("Invalid migration role: '" + s + "'");
    }
}
