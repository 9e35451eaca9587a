package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry tool}: needs no agent, so no agent runs here. */
class ToolCommandTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    private Run ferry(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(args, Map.of(), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void template_thenCheck_conformsAndExits0() {
        Path tool = dir.resolve("vtpm-move");

        Run made = ferry("tool", "template", "--dialect", "xen", "--type", "vtpm", tool.toString());
        Run checked = ferry("tool", "check", tool.toString(), "--dialect", "xen", "--type", "vtpm", "--mode", "save",
                "--scratch", dir.toString());

        assertThat(made.exit()).isZero();
        assertThat(made.out()).isEqualTo("wrote " + tool + "; check it with: ferry tool check " + tool
                + " --dialect xen --type vtpm\n");
        assertThat(Files.isExecutable(tool)).isTrue();
        assertThat(checked.exit()).as(checked.out()).isZero();
        assertThat(checked.out()).contains("vtpm-move -type vtpm -step 1 -host " + dir)
                .endsWith("The tool conforms: " + checkedCalls(checked.out()) + " calls in 11 scenarios, no problem.\n");
    }

    private static long checkedCalls(String out) {
        return out.lines().filter(l -> l.matches("   \\S.*(exit|signal|timeout).*")).count();
    }

    @Test
    void check_ofANonConformingTool_exits1_withTheProblem() throws Exception {
        Path tool = dir.resolve("noisy");
        Files.writeString(tool, "#!/bin/sh\necho 'Error: something odd'\nexit 0\n");
        tool.toFile().setExecutable(true);

        Run r = ferry("tool", "check", tool.toString(), "--dialect", "ferry", "--type", "usb", "--scratch", dir.toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("  - exited 0 but printed an error: 'Error: something odd'; exit non-zero when"
                        + " the step failed, and keep errors out of the output when it did not (at check, pre-suspend,"
                        + " post-suspend, sync, recover after pre-suspend, recover again after pre-suspend,")
                .endsWith("The tool does not conform: 1 problem.\n");
    }

    @Test
    void template_toStdout_andNeverOverAnExistingFile() throws Exception {
        Path existing = Files.writeString(dir.resolve("mine"), "keep me");

        Run printed = ferry("tool", "template", "--dialect", "ferry", "--type", "tpm");
        Run refused = ferry("tool", "template", "--dialect", "ferry", "--type", "tpm", existing.toString());

        assertThat(printed.out()).startsWith("#!/bin/sh\n# A Ferry migration tool for tpm devices, dialect ferry.");
        assertThat(refused.exit()).isEqualTo(CliFailure.USAGE);
        assertThat(refused.err()).contains("cannot write " + existing).contains("it exists already");
        assertThat(Files.readString(existing)).isEqualTo("keep me");
    }

    @Test
    void badUsage_namesTheThingAndTheFix() {
        Run dialect = ferry("tool", "check", "/bin/true", "--dialect", "xend", "--type", "vtpm");
        Run type = ferry("tool", "template", "--dialect", "xen", "--type", "V TPM");
        Run missing = ferry("tool", "check", dir.resolve("absent").toString(), "--dialect", "xen", "--type", "vtpm");

        assertThat(dialect.exit()).isEqualTo(CliFailure.USAGE);
        assertThat(dialect.err()).isEqualTo("ferry: unknown tool dialect 'xend'; use ferry or xen\n");
        assertThat(type.err()).isEqualTo("ferry: device class 'V TPM' is not a class; use vbd, vif, vtpm, usb, pci"
                + " or an external device's kind (lower case letters, digits, - and _)\n");
        assertThat(missing.err()).isEqualTo("ferry: tool " + dir.resolve("absent")
                + " does not exist; give the path of the tool's executable\n");
    }

    @Test
    void help_describesBothCommands() {
        Run r = ferry("tool", "--help");

        assertThat(r.out()).contains("check", "template", "Needs no agent.");
    }
}
