package dev.ferry.device;

import java.util.Locale;

/** How Ferry speaks to an external migration tool. */
public enum ToolDialect {
    /** {@code --step check --device-type tpm ...}; exit 2 at check refuses; JSON lines on stdout are read. */
    FERRY,
    /** The historical xend command line {@code -type vtpm -step 2 -host DEST -domname NAME [-recover]}. */
    XEN;

    public static ToolDialect parse(String s) {
        for (ToolDialect d : values()) {
            if (d.name().equalsIgnoreCase(s)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown tool dialect '" + s + "'; use ferry or xen");
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
