package dev.ferry.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a xen-dialect tool sees as xend's tools did: which steps it is called at, how its output
 * is judged per class, and the arguments refused because xend's dispatcher would evaluate them.
 */
class XenDialectTest {
    @TempDir
    Path dir;

    private final ToolRunner runner = new ToolRunner(new ProcessRunner());

    private static DeviceContext ctx(String type, String variant, Mode mode, String vm, String destination) {
        return new DeviceContext(vm, "uuid-1", new DeviceRef("dev0", type, variant), mode, destination, e -> {});
    }

    private static DeviceContext live(String type) {
        return ctx(type, type.equals("external") ? "fpga" : "", Mode.LIVE, "web1", "host-b");
    }

    /** A tool that appends its argv to calls.log, then runs {@code body}. */
    private ToolSpec tool(String body) throws IOException {
        Path script = dir.resolve("tool.sh");
        Files.writeString(script, "#!/bin/sh\necho \"$*\" >> " + dir.resolve("calls.log") + "\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return ToolSpec.of(script, ToolDialect.XEN);
    }

    private String calls() throws IOException {
        Path log = dir.resolve("calls.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    void xendSequence_callsNoVtpmAtStep0_andNoDeviceAtStep0WhenSaving_butEveryStepAfter() {
        DeviceRef vtpm = new DeviceRef("tpm0", "tpm", "external");
        DeviceRef usb = new DeviceRef("usb0", "usb", "passthrough");

        assertThat(StepSequence.XEND.calls(vtpm, Step.CHECK, Mode.LIVE)).isFalse();
        assertThat(StepSequence.XEND.calls(usb, Step.CHECK, Mode.LIVE)).isTrue();
        assertThat(StepSequence.XEND.calls(usb, Step.CHECK, Mode.SAVE)).isFalse();
        for (Step step : new Step[] {Step.PRE_SUSPEND, Step.POST_SUSPEND, Step.SYNC}) {
            for (Mode mode : Mode.values()) {
                assertThat(StepSequence.XEND.calls(vtpm, step, mode)).isTrue();
                assertThat(StepSequence.XEND.calls(usb, step, mode)).isTrue();
            }
        }
        for (Mode mode : Mode.values()) {
            assertThat(StepSequence.FERRY.calls(vtpm, Step.CHECK, mode)).isTrue();
        }
    }

    @Test
    void aXenTool_needsXendsSequence_unlessItsEntryOptsIntoConcurrentSteps() {
        Path exe = Path.of("/opt/tool");
        ToolSpec concurrent = new ToolSpec(exe, ToolDialect.XEN, Map.of(), ToolSpec.DEFAULT_TIMEOUT,
                ToolSpec.DEFAULT_OUTPUT_CAP, true);

        assertThat(ToolSpec.of(exe, ToolDialect.XEN).sequence()).isEqualTo(StepSequence.XEND);
        assertThat(concurrent.sequence()).isEqualTo(StepSequence.FERRY);
        assertThat(ToolSpec.of(exe, ToolDialect.FERRY).sequence()).isEqualTo(StepSequence.FERRY);
        assertThatThrownBy(() -> new ToolSpec(exe, ToolDialect.FERRY, Map.of(), Duration.ofSeconds(1), 1024, true))
                .hasMessageContaining("concurrent steps apply only to the xen dialect");
    }

    @Test
    void vtpmClass_failsOnAnErrorLine_whateverItsExitStatus() throws Exception {
        assertThatThrownBy(() -> runner.run(tool("echo 'vtpm: Error: manager unreachable'; exit 0"), live("tpm"),
                Step.PRE_SUSPEND, null)).hasMessageContaining("vtpm: Error: manager unreachable");

        ToolRunner.Outcome quietExit1 = runner.run(tool("echo 'migrated'; exit 1"), live("tpm"), Step.PRE_SUSPEND, null);

        assertThat(quietExit1.result().exitCode()).as("xend did not read the vTPM tool's exit status").isEqualTo(1);
    }

    @Test
    void otherClasses_failOnTheExitStatusAlone() throws Exception {
        ToolRunner.Outcome errorWordExit0 = runner.run(tool("echo 'Error count: 0'; exit 0"), live("usb"),
                Step.POST_SUSPEND, null);
        assertThat(errorWordExit0.refused()).isFalse();

        assertThatThrownBy(() -> runner.run(tool("echo 'hub busy'; exit 3"), live("external"), Step.SYNC, null))
                .isInstanceOf(DeviceException.class).hasMessageContaining("failed at sync: hub busy (exit 3)");
    }

    @Test
    void step0_refusesOnANonZeroExit_forClassesOtherThanVtpm() throws Exception {
        ExternalToolController controller = new ExternalToolController(runner, tool("echo 'hub not shared'; exit 1"));

        Verdict verdict = controller.check(live("usb"));

        assertThat(verdict.migratable()).isFalse();
        assertThat(verdict.reason()).contains("says no: hub not shared");
        assertThat(calls()).isEqualTo("-type usb -step 0 -host host-b -domname web1\n");
    }

    @Test
    void step0_isNotCalledForVtpm_norForAnyClassWhenSaving() throws Exception {
        ExternalToolController controller = new ExternalToolController(runner, tool("exit 1"));

        assertThat(controller.check(live("tpm")).migratable()).isTrue();
        assertThat(controller.check(ctx("usb", "", Mode.SAVE, "web1", "/srv/saves/web1.ferry")).migratable()).isTrue();
        assertThat(calls()).isEmpty();
    }

    @Test
    void aSavePathWithASpace_isRefusedAtCheck_withTheReasonAndTheFix_andTheToolIsNotCalled() throws Exception {
        ExternalToolController controller = new ExternalToolController(runner, tool("exit 0"));

        Verdict verdict = controller.check(ctx("tpm", "external", Mode.SAVE, "web1", "/srv/my saves/web1.ferry"));

        assertThat(verdict.migratable()).isFalse();
        assertThat(verdict.reason()).startsWith("the save path '/srv/my saves/web1.ferry' contains a space, and tool ")
                .contains("xend's dispatcher (external-device-migrate) passes its arguments through eval")
                .endsWith("use only letters, digits and . _ , : / @ + = % - in it, or switch the tool to dialect ferry");
        assertThat(calls()).isEmpty();
    }

    @Test
    void shellCharactersInAnyArgument_areRefusedNamingWhichArgumentAndWhichCharacter() throws Exception {
        ExternalToolController controller = new ExternalToolController(runner, tool("exit 0"));

        assertThat(controller.check(ctx("usb", "", Mode.SAVE, "web1", "/srv/$(reboot).ferry")).reason())
                .startsWith("the save path '/srv/$(reboot).ferry' contains '$'");
        assertThat(controller.check(ctx("usb", "", Mode.LIVE, "web;1", "host-b")).reason())
                .startsWith("the VM name 'web;1' contains ';'");
        assertThat(controller.check(ctx("usb", "", Mode.LIVE, "web1", "host-b\tx")).reason())
                .startsWith("the destination host name 'host-b\tx' contains whitespace (U+0009)");
        assertThat(controller.check(ctx("usb", "", Mode.LIVE, "web1", "host-b.example:7000")).migratable()).isTrue();
    }

    @Test
    void theFerryDialect_takesTheSameArgumentsVerbatim() throws Exception {
        Path script = tool("exit 0").executable();
        ExternalToolController controller = new ExternalToolController(runner, ToolSpec.of(script, ToolDialect.FERRY));

        assertThat(controller.check(ctx("tpm", "external", Mode.SAVE, "web1", "/srv/my saves/$(x).ferry")).migratable())
                .isTrue();
    }
}
