package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpioWriterTest {

    private static byte[] sample() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (CpioWriter cpio = new CpioWriter(bytes)) {
            cpio.directory("bin", 0755);
            cpio.file("/bin/busybox", 0755, "#!fake".getBytes(StandardCharsets.UTF_8));
            cpio.symlink("bin/sh", "busybox");
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.file("init", 0755, "odd-length\n!".getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    @Test
    void entriesReadBackWithTheirTypeModeAndContent() throws IOException {
        Map<String, CpioEntries.Entry> entries = CpioEntries.read(sample());

        assertThat(entries).containsOnlyKeys("bin", "bin/busybox", "bin/sh", "dev/console", "init");
        assertThat(entries.get("bin").mode()).isEqualTo(0040755);
        assertThat(entries.get("bin/busybox").mode()).isEqualTo(0100755);
        assertThat(entries.get("bin/busybox").text()).isEqualTo("#!fake");
        assertThat(entries.get("bin/sh").mode()).isEqualTo(0120777);
        assertThat(entries.get("bin/sh").text()).isEqualTo("busybox");
        assertThat(entries.get("dev/console").mode()).isEqualTo(0020600);
        assertThat(entries.get("dev/console").rdevMajor()).isEqualTo(5);
        assertThat(entries.get("dev/console").rdevMinor()).isEqualTo(1);
        assertThat(entries.get("init").text()).isEqualTo("odd-length\n!");
    }

    @Test
    void archiveLengthIsAMultipleOfFourAndEndsWithTheTrailer() throws IOException {
        byte[] archive = sample();

        assertThat(archive.length % 4).isZero();
        assertThat(new String(archive, StandardCharsets.US_ASCII)).contains("TRAILER!!!");
    }

    @Test
    void sameEntriesGiveTheSameBytes() throws IOException {
        assertThat(sample()).isEqualTo(sample());
    }

    @Test
    void hostCpioListsEveryEntry(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/cpio")) || Files.isExecutable(Path.of("/bin/cpio")),
                "GNU cpio is not installed");
        Path archive = dir.resolve("test.cpio");
        Files.write(archive, sample());

        ProcResult listing = new ProcessRunner().run(Command.of("cpio", "-it", "--quiet", "-F", archive.toString())
                .timeout(Duration.ofSeconds(10)));

        assertThat(listing.ok()).as(listing.describe()).isTrue();
        assertThat(listing.stdout().text().lines()).containsExactly("bin", "bin/busybox", "bin/sh", "dev/console", "init");
    }

    @Test
    void duplicateNamesAndEntriesAfterFinishAreRejected() throws IOException {
        CpioWriter cpio = new CpioWriter(new ByteArrayOutputStream());
        cpio.directory("bin", 0755);

        assertThatThrownBy(() -> cpio.directory("/bin", 0755)).hasMessageContaining("already has an entry named bin");
        cpio.finish();
        assertThatThrownBy(() -> cpio.file("init", 0755, new byte[0])).hasMessageContaining("already finished");
    }
}
