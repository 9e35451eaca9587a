package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestConsoleTest {
    @TempDir
    Path dir;

    @Test
    void read_findsTicksRecordsBootIdAndTheLatestPcrs() throws Exception {
        String a = "A".repeat(64);
        String b = "b".repeat(64);
        Path log = dir.resolve("serial.log");
        Files.writeString(log, String.join("\n", "SeaBIOS garbage", "boot 1234-abcd", "pcr-sha256 0 " + a,
                "tick 1", "wrote 1", "tick 2", "tick 1x", "pcr-sha256 0 " + b, "pcr-sha256 9 " + a, "wrote 2", "tick 3\r"));

        GuestConsole console = GuestConsole.read(log);

        assertThat(console.bootId()).isEqualTo("1234-abcd");
        assertThat(console.firstTick()).isEqualTo(1);
        assertThat(console.lastTick()).isEqualTo(3);
        assertThat(console.lastWrote()).isEqualTo(2);
        assertThat(console.pcrs()).containsOnlyKeys(0).containsEntry(0, b.toUpperCase());
    }

    @Test
    void read_missingLogIsEmpty() throws Exception {
        GuestConsole console = GuestConsole.read(dir.resolve("none.log"));

        assertThat(console.lastTick()).isZero();
        assertThat(console.bootId()).isNull();
    }
}
