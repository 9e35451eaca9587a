package dev.ferry.bench;

import ch.qos.logback.classic.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Medians, ratios and the few formatting rules every benchmark's output shares. */
final class Samples {
    private Samples() {}

    /** The median; the mean of the two middle values for an even count; null when nothing was measured. */
    static Long median(Collection<Long> values) {
        List<Long> sorted = new ArrayList<>(values.stream().filter(Objects::nonNull).sorted().toList());
        if (sorted.isEmpty()) {
            return null;
        }
        int mid = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(mid) : Math.round((sorted.get(mid - 1) + sorted.get(mid)) / 2.0);
    }

    static String ms(Long value) {
        return value == null ? "n/a" : String.format("%,d ms", value);
    }

    static String ratio(Long numerator, Long denominator) {
        return numerator == null || denominator == null || denominator == 0 ? "n/a"
                : String.format("%.2fx", numerator / (double) denominator);
    }

    /** Keeps the agents' INFO lines off the output unless {@code -Dbench.verbose=true}. */
    static void quietLogs() {
        if (!Boolean.getBoolean("bench.verbose")) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
        }
    }

    /** An integer system property, for the number of runs. */
    static int intProperty(String name, int fallback) {
        String v = System.getProperty(name);
        return v == null || v.isBlank() ? fallback : Integer.parseInt(v.strip());
    }
}
