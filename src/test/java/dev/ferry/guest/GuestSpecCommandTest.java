package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.cli.GuestCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ferry guest spec} refuses bad arguments before it builds anything. */
class GuestSpecCommandTest {
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

    @Test
    void spec_withABadName_saysWhyAndExitsTwoWithoutWritingAnything() {
        Path target = dir.resolve("vms");

        int exit = run("spec", "Web_1", "--dir", target.toString());

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).startsWith("ferry guest spec: name: ");
        assertThat(out.toString()).isEmpty();
        assertThat(target).doesNotExist();
    }

    @Test
    void spec_withABadDiskSize_saysWhyAndExitsTwo() {
        int exit = run("spec", "web1", "--dir", dir.toString(), "--disk-size", "lots");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("'lots' is not a size");
    }

    @Test
    void spec_withoutDir_isAUsageError() {
        int exit = run("spec", "web1");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("--dir");
    }

    @Test
    void specHelp_explainsWhatSharedMeans() {
        int exit = run("spec", "--help");

        assertThat(exit).isZero();
        assertThat(out.toString()).contains("shared").contains("same path");
    }
}
