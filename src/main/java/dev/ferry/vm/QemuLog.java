package dev.ferry.vm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's error log in a run directory ({@link RunDir#qemuLog()}): what a daemonized QEMU said
 * before it failed, for the message that reports the failure.
 */
public final class QemuLog {
    /** Only the end of the file is read: the reason is in the last lines, and the log may be large. */
    private static final int READ_BYTES = 4096;
    private static final int LINES = 3;
    private static final int MAX_CHARS = 600;

    private QemuLog() {}

    /**
     * QEMU's last few lines in {@code log}, joined with " / ", as {@code "; QEMU said: ..."} ready to
     * append to a message, or empty when the file is missing, empty or unreadable.
     */
    public static String lastWords(Path log) {
        String words = tail(log);
        return words.isEmpty() ? "" : "; QEMU said: " + words;
    }

    /** QEMU's last few lines in {@code log}, joined with " / ", or empty when there are none. */
    public static String tail(Path log) {
        String words = String.join(" / ", lastLines(log));
        if (words.length() > MAX_CHARS) {
            words = "..." + words.substring(words.length() - MAX_CHARS);
        }
        return words;
    }

    static List<String> lastLines(Path log) {
        if (!Files.isRegularFile(log)) {
            return List.of();
        }
        String text;
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long start = Math.max(0, f.length() - READ_BYTES);
            byte[] bytes = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(bytes);
            text = new String(bytes, StandardCharsets.UTF_8);
            if (start > 0) {
                // The first line is cut in the middle.
                int nl = text.indexOf('\n');
                text = nl < 0 ? "" : text.substring(nl + 1);
            }
        } catch (IOException e) {
            return List.of();
        }
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                lines.add(line.strip());
            }
        }
        return lines.subList(Math.max(0, lines.size() - LINES), lines.size());
    }
}
