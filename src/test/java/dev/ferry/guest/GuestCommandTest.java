package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.cli.GuestCommand;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ferry guest verify-disk} as a user sees it: what it prints and its exit code. */
class GuestCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine command = new CommandLine(new GuestCommand());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return command.execute(args);
    }

    private Path disk(long... seqs) throws Exception {
        Path image = dir.resolve("disk.raw");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(1024 * 1024);
            file.write(GuestRecord.diskHeader("b007"));
            for (long seq : seqs) {
                file.seek(seq * GuestRecord.SIZE);
                file.write(GuestRecord.encode(seq));
            }
        }
        return image;
    }

    @Test
    void verifyDisk_onACleanDisk_printsTheHighestRecordAndExitsZero() throws Exception {
        int exit = run("verify-disk", disk(1, 2, 3).toString());

        assertThat(exit).isZero();
        assertThat(out.toString()).contains("highest contiguous record  3").contains("clean");
    }

    @Test
    void verifyDisk_withAGap_namesTheMissingRecordAndExitsOne() throws Exception {
        int exit = run("verify-disk", disk(1, 2, 4).toString());

        assertThat(exit).isEqualTo(1);
        assertThat(out.toString()).contains("highest contiguous record  2").contains("missing records            3")
                .contains("NOT clean");
    }

    @Test
    void verifyDisk_onAMissingImage_saysWhichAndExitsTwo() {
        int exit = run("verify-disk", dir.resolve("absent.qcow2").toString());

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("absent.qcow2");
    }

    @Test
    void guestWithoutSubcommand_explainsWhatIsMissing() {
        int exit = run();

        assertThat(exit).isNotZero();
        assertThat(err.toString()).contains("build").contains("verify-disk");
    }
}
