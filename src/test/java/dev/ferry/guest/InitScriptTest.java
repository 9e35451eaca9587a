package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs pieces of the guest's /init with the host's busybox, so the bytes the guest writes and the
 * bytes {@link GuestRecord} expects cannot drift apart unnoticed.
 */
class InitScriptTest {
    private static final Path BUSYBOX = Path.of("/bin/busybox");

    @TempDir
    Path dir;

    private final ProcessRunner runner = new ProcessRunner();

    /** The text of one shell function of the template, from its name to its closing brace. */
    private static String function(String name) {
        String template = InitScript.TEMPLATE;
        int start = template.indexOf("\n" + name + "() {");
        assertThat(start).as("function %s in the init template", name).isNotNegative();
        int lineEnd = template.indexOf('\n', start + 1);
        if (template.substring(start, lineEnd).strip().endsWith("}")) {
            return template.substring(start + 1, lineEnd + 1);
        }
        return template.substring(start + 1, template.indexOf("\n}\n", start) + 3);
    }

    private ProcResult sh(String script) throws Exception {
        assumeTrue(Files.isExecutable(BUSYBOX), "busybox is not installed");
        String prelude = "t=" + dir + "\nnl='\n'\n";
        return runner.run(Command.of(BUSYBOX.toString(), "sh", "-c", prelude + script)
                .env("PATH", "/usr/bin:/bin")
                .timeout(Duration.ofSeconds(20)));
    }

    @Test
    void recordFunction_writesExactlyTheBytesTheVerifierExpects() throws Exception {
        for (long seq : List.of(1L, 42L, 987654321L)) {
            ProcResult result = sh(function("record") + "record " + seq);

            assertThat(result.ok()).as(result.describe()).isTrue();
            assertThat(Files.readAllBytes(dir.resolve("rec"))).as("record %d", seq).isEqualTo(GuestRecord.encode(seq));
        }
    }

    @Test
    void diskheaderFunction_writesTheHeaderTheVerifierReads() throws Exception {
        ProcResult result = sh(function("diskheader") + "diskheader 5f1e4c1a-0000-4000-8000-0123456789ab");

        assertThat(result.ok()).as(result.describe()).isTrue();
        assertThat(Files.readAllBytes(dir.resolve("hdr"))).isEqualTo(GuestRecord.diskHeader("5f1e4c1a-0000-4000-8000-0123456789ab"));
    }

    @Test
    void highestFunction_findsTheLastRecordPastGapsAndStopsAtABlankMegabyte() throws Exception {
        Path disk = dir.resolve("disk.raw");
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.setLength(8L * 1024 * 1024);
            file.write(GuestRecord.diskHeader("x"));
            for (long seq = 1; seq <= 400; seq++) {
                if (seq != 300) {
                    file.seek(seq * GuestRecord.SIZE);
                    file.write(GuestRecord.encode(seq));
                }
            }
            // After a blank megabyte the scan stops: this record is past it and not seen.
            file.seek(1000L * GuestRecord.SIZE);
            file.write(GuestRecord.encode(1000));
        }

        ProcResult result = sh("dev=" + disk + "\n" + function("highest") + "highest; echo \"last=$last\"");

        assertThat(result.ok()).as(result.describe()).isTrue();
        assertThat(result.stdout().text().strip()).isEqualTo("last=400");
    }

    @Test
    void render_fillsInTheModuleOrder() {
        String init = InitScript.render(List.of("virtio_ring", "virtio"));

        assertThat(init).startsWith("#!/bin/sh\n").contains("MODULES=\"virtio_ring virtio\"\n").doesNotContain("@MODULES@");
    }

    @Test
    void render_rejectsANameThatIsNotAModuleName() {
        assertThatThrownBy(() -> InitScript.render(List.of("virtio; reboot"))).hasMessageContaining("virtio; reboot");
    }

    @Test
    void template_hasNoBackslashes_soTheTextBlockIsTheScriptVerbatim() {
        assertThat(InitScript.TEMPLATE).doesNotContain("\\");
    }
}
