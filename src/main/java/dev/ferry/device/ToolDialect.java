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

    /**
     * Whether a call that ended with {@code exitCode}, having printed an error line or not, failed
     * (at check: refused the device). Ferry: a non-zero exit or an {@code error} line. Xen, as xend
     * read its tools: for the {@code vtpm} class a stdout line containing {@code Error}, whatever the
     * exit status; for every other class the exit status alone.
     */
    public boolean failed(DeviceRef device, int exitCode, boolean errorLine) {
        return switch (this) {
            case FERRY -> exitCode != 0 || errorLine;
            case XEN -> StepSequence.isVtpm(device) ? errorLine : exitCode != 0;
        };
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
