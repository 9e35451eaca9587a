package dev.ferry.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * What the test guest said on its serial console (see {@link InitScript} for the lines), read from
 * a VM's serial log. A migrated guest's lines continue in the destination's log.
 */
public final class GuestConsole {
    private final List<String> lines;

    private GuestConsole(List<String> lines) {
        this.lines = lines;
    }

    /** Reads {@code log}; a missing log reads as empty. */
    public static GuestConsole read(Path log) throws IOException {
        try {
            String text = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
            return new GuestConsole(text.lines().map(String::strip).toList());
        } catch (NoSuchFileException e) {
            return new GuestConsole(List.of());
        }
    }

    /** Polls {@code log} until {@code done} holds or {@code limit} passes; returns the last reading. */
    public static GuestConsole await(Path log, Predicate<GuestConsole> done, Duration limit)
            throws IOException, InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        GuestConsole console = read(log);
        while (!done.test(console) && System.nanoTime() < until) {
            Thread.sleep(100);
            console = read(log);
        }
        return console;
    }

    public List<String> lines() {
        return lines;
    }

    /** The highest {@code tick N}, or 0. */
    public long lastTick() {
        return last("tick ");
    }

    /** The highest {@code wrote N}: the last record the guest knows is on its disk, or 0. */
    public long lastWrote() {
        return last("wrote ");
    }

    /** The first tick in this log, or 0 (on a destination: where the guest went on). */
    public long firstTick() {
        for (String l : lines) {
            Long n = number(l, "tick ");
            if (n != null) {
                return n;
            }
        }
        return 0;
    }

    /** The boot id, or null if the log has none (a migrated guest's destination log). */
    public String bootId() {
        for (String l : lines) {
            if (l.startsWith("boot ")) {
                return l.substring(5).strip();
            }
        }
        return null;
    }

    /** The most recent value of each SHA-256 PCR the guest printed, by index. */
    public Map<Integer, String> pcrs() {
        Map<Integer, String> pcrs = new TreeMap<>();
        for (String l : lines) {
            String[] f = l.split(" ");
            if (f.length == 3 && f[0].equals("pcr-sha256") && f[1].matches("[0-7]") && f[2].matches("[0-9A-Fa-f]{64}")) {
                pcrs.put(Integer.parseInt(f[1]), f[2].toUpperCase(java.util.Locale.ROOT));
            }
        }
        return pcrs;
    }

    public boolean said(String line) {
        return lines.contains(line);
    }

    private long last(String prefix) {
        long max = 0;
        for (String l : lines) {
            Long n = number(l, prefix);
            if (n != null && n > max) {
                max = n;
            }
        }
        return max;
    }

    private static Long number(String line, String prefix) {
        if (!line.startsWith(prefix)) {
            return null;
        }
        String rest = line.substring(prefix.length());
        return rest.matches("\\d{1,18}") ? Long.parseLong(rest) : null;
    }
}
