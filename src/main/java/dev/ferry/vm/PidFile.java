package dev.ferry.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/** Pidfiles written by QEMU and swtpm, and the argv check that a pid read from one is still theirs. */
final class PidFile {
    private PidFile() {}

    /** The pid in {@code file}; empty when the file is missing, empty or not a pid. */
    static OptionalLong read(Path file) {
        try {
            String text = Files.readString(file).strip();
            long pid = Long.parseLong(text);
            return pid > 1 ? OptionalLong.of(pid) : OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** Whether {@code option} appears in {@code argv} immediately followed by {@code value}. */
    static boolean followedBy(List<String> argv, String option, String value) {
        for (int i = 0; i + 1 < argv.size(); i++) {
            if (argv.get(i).equals(option) && argv.get(i + 1).equals(value)) {
                return true;
            }
        }
        return false;
    }
}
