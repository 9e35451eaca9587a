package dev.ferry.device;

import java.util.Locale;

/** Whether the VM moves to another host or into a file. */
public enum Mode {
    /** Live migration: the destination is a host. */
    LIVE,
    /** Save to a file: the destination is the file's path. */
    SAVE;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Mode fromWireName(String s) {
        for (Mode m : values()) {
            if (m.wireName().equals(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + s + "'; expected live or save");
    }
}
