package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QemuLogTest {
    @TempDir
    Path dir;

    @Test
    void quotesTheLastLinesQemuWrote() throws Exception {
        Path log = dir.resolve("qemu.log");
        Files.writeString(log, "first\n\nqemu-system-x86_64: Missing section footer for tpm-emulator\n"
                + "qemu-system-x86_64: load of migration failed: Invalid argument\n\n");
        assertThat(QemuLog.lastWords(log)).isEqualTo("; QEMU said: first / qemu-system-x86_64: Missing section footer for"
                + " tpm-emulator / qemu-system-x86_64: load of migration failed: Invalid argument");
    }

    @Test
    void saysNothingWithoutALog() throws Exception {
        assertThat(QemuLog.lastWords(dir.resolve("missing.log"))).isEmpty();
        Files.writeString(dir.resolve("empty.log"), "\n \n");
        assertThat(QemuLog.lastWords(dir.resolve("empty.log"))).isEmpty();
    }

    @Test
    void readsOnlyTheEndOfALargeLogAndDropsTheCutLine() throws Exception {
        Path log = dir.resolve("qemu.log");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            text.append("line ").append(i).append('\n');
        }
        Files.writeString(log, text);
        assertThat(QemuLog.lastLines(log)).containsExactly("line 1997", "line 1998", "line 1999");
        assertThat(QemuLog.lastWords(log).length()).isLessThan(700);
    }
}
