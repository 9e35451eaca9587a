package dev.ferry.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.device.Mode;
import dev.ferry.device.ToolDialect;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance check against real shell tools: the generated template, and the template with
 * one defect each, run for real in a temporary directory.
 */
class ToolCheckTest {
    @TempDir
    Path dir;

    private CheckReport check(Path tool, ToolDialect dialect, String type, Mode mode) throws Exception {
        return new ToolCheck(dir, Clock.systemUTC()).run(new CheckOptions(tool, dialect, type, mode, "host-b"));
    }

    private Path write(String name, String text) throws IOException {
        Path tool = dir.resolve(name);
        Files.writeString(tool, text);
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        return tool;
    }

    /** The template with {@code from} replaced by {@code to}; fails when the template no longer holds {@code from}. */
    private Path broken(ToolDialect dialect, String type, String from, String to) throws IOException {
        String template = ToolTemplate.text(dialect, type);
        assertThat(template).contains(from);
        return write("broken-tool", template.replace(from, to));
    }

    static Stream<Arguments> templates() {
        return Stream.of(
                Arguments.of(ToolDialect.FERRY, "tpm", Mode.LIVE),
                Arguments.of(ToolDialect.FERRY, "disk", Mode.LIVE),
                Arguments.of(ToolDialect.FERRY, "fpga", Mode.SAVE),
                Arguments.of(ToolDialect.XEN, "vtpm", Mode.LIVE),
                Arguments.of(ToolDialect.XEN, "vbd", Mode.SAVE),
                Arguments.of(ToolDialect.XEN, "pci", Mode.LIVE));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("templates")
    void template_conforms_andIsCalledForEveryStepAndRecovery(ToolDialect dialect, String type, Mode mode)
            throws Exception {
        Path tool = dir.resolve("tool");
        ToolTemplate.write(tool, dialect, type);

        CheckReport report = check(tool, dialect, type, mode);

        assertThat(report.problems()).isEmpty();
        assertThat(report.conforms()).isTrue();
        List<String> labels = report.runs().stream().flatMap(r -> r.calls().stream()).map(CheckedCall::label).toList();
        assertThat(labels).contains("pre-suspend", "post-suspend", "sync", "recover after pre-suspend",
                "recover after post-suspend", "recover after sync", "recover again after sync");
        assertThat(report.runs()).hasSize(Scenario.all().size());
    }

    @Test
    void argv_isTheDialectsCommandLine_asAMigrationBuildsIt() throws Exception {
        Path tool = dir.resolve("tool");
        ToolTemplate.write(tool, ToolDialect.XEN, "vtpm");

        CheckReport report = check(tool, ToolDialect.XEN, "vtpm", Mode.LIVE);

        CheckedCall recover = report.runs().get(2).calls().stream()
                .filter(c -> c.label().equals("recover after pre-suspend")).findFirst().orElseThrow();
        assertThat(recover.argv()).containsExactly(tool.toAbsolutePath().toString(),
                "-type", "vtpm", "-step", "1", "-host", "host-b", "-domname", ToolCheck.VM, "-recover");
    }

    @Test
    void xenToolThatIgnoresRecover_failsWithTheReason() throws Exception {
        Path tool = broken(ToolDialect.XEN, "vtpm", "if [ -n \"$recover\" ]; then", "if false; then");

        CheckReport report = check(tool, ToolDialect.XEN, "vtpm", Mode.LIVE);

        assertThat(report.conforms()).isFalse();
        assertThat(report.problems()).anySatisfy(p -> assertThat(p)
                .startsWith("after the rollback the scratch directory differs from before the migration")
                .contains("does the tool ignore -recover and do the step again?"));
    }

    @Test
    void ferryToolThatRedoesTheLastGoodStepOnRecover_failsWithTheReason() throws Exception {
        Path tool = broken(ToolDialect.FERRY, "tpm", "case $step in", "[ \"$step\" = recover ] && step=$last_good\ncase $step in");

        CheckReport report = check(tool, ToolDialect.FERRY, "tpm", Mode.LIVE);

        assertThat(report.problems()).anySatisfy(p -> assertThat(p)
                .contains("recover must undo what the steps did (does the tool ignore --step recover"));
    }

    @Test
    void toolThatLeavesAChildRunning_failsWithTheReason_andTheChildIsKilled() throws Exception {
        Path tool = broken(ToolDialect.FERRY, "tpm", "echo pre-suspend > \"$state\"",
                "echo pre-suspend > \"$state\"\n    sleep 3217 &");

        CheckReport report = check(tool, ToolDialect.FERRY, "tpm", Mode.LIVE);

        assertThat(report.problems()).anySatisfy(p -> assertThat(p)
                .startsWith("left a process running after the tool exited (the check killed it)").contains("(at pre-suspend;"));
        CheckedCall first = report.runs().get(0).calls().get(1);
        // Caught either still as the tool's forked shell or already as the sleep it became.
        assertThat(first.leftovers()).isNotEmpty()
                .allSatisfy(left -> assertThat(left).startsWith("pid ").containsAnyOf("sleep 3217", "broken-tool"));
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.allProcesses()
                .noneMatch(p -> p.info().commandLine().orElse("").contains("sleep 3217")));
    }

    @Test
    void toolThatPrintsMalformedJson_failsWithTheLine() throws Exception {
        Path tool = broken(ToolDialect.FERRY, "tpm", "echo '{\"progress\":1}'", "echo '{progress: 1}'");

        CheckReport report = check(tool, ToolDialect.FERRY, "tpm", Mode.LIVE);

        assertThat(report.problems()).anySatisfy(p -> assertThat(p)
                .startsWith("stdout line 1 is not valid JSON: '{progress: 1}'").contains("(at post-suspend;"));
    }

    @Test
    void toolThatExitsZeroWithAnErrorLine_failsWithTheLine() throws Exception {
        Path tool = broken(ToolDialect.XEN, "vtpm", "echo 2 >> \"$state\"", "echo 2 >> \"$state\"\n    echo 'Error: disk nearly full'");

        CheckReport report = check(tool, ToolDialect.XEN, "vtpm", Mode.LIVE);

        assertThat(report.problems()).anySatisfy(p -> assertThat(p)
                .startsWith("exited 0 but printed an error: 'Error: disk nearly full'").contains("(at post-suspend;"));
    }

    @Test
    void checkThatWritesAFile_failsAsASideEffect() throws Exception {
        Path tool = broken(ToolDialect.FERRY, "tpm", "check)\n", "check)\n    touch checked\n");

        CheckReport report = check(tool, ToolDialect.FERRY, "tpm", Mode.LIVE);

        assertThat(report.problems()).anySatisfy(p -> assertThat(p)
                .startsWith("step 0 changed files (added work/checked); a check must have no side effects (at check;"));
    }

    @Test
    void failingStep_isReportedWithWhatFerryWouldShow() throws Exception {
        Path tool = broken(ToolDialect.FERRY, "tpm", "echo pre-suspend > \"$state\"", "fail \"the key store is locked\"");

        CheckReport report = check(tool, ToolDialect.FERRY, "tpm", Mode.LIVE);

        CheckedCall step1 = report.runs().get(0).calls().get(1);
        assertThat(step1.label()).isEqualTo("pre-suspend");
        assertThat(step1.failed()).isTrue();
        assertThat(step1.result().exitCode()).isEqualTo(1);
        assertThat(step1.message()).contains("the key store is locked");
        assertThat(report.problems()).anySatisfy(p -> assertThat(p)
                .startsWith("pre-suspend failed: ").contains("the key store is locked"));
    }

    @Test
    void messagesOfASucceedingStep_areWhatFerryNotes() throws Exception {
        Path tool = dir.resolve("tool");
        ToolTemplate.write(tool, ToolDialect.FERRY, "tpm");

        CheckReport report = check(tool, ToolDialect.FERRY, "tpm", Mode.LIVE);

        CheckedCall step2 = report.runs().get(0).calls().get(2);
        assertThat(step2.label()).isEqualTo("post-suspend");
        assertThat(step2.message()).isEqualTo("post-suspend done");
        assertThat(step2.failed()).isFalse();
    }

    @Test
    void toolThatRefusesAtStep0_stopsAfterOneScenario_withItsReason() throws Exception {
        Path tool = write("refuses", "#!/bin/sh\necho '{\"error\":\"no key for this host\"}'\nexit 2\n");

        CheckReport report = check(tool, ToolDialect.FERRY, "tpm", Mode.LIVE);

        assertThat(report.runs()).hasSize(1);
        assertThat(report.problems()).singleElement().asString()
                .startsWith("step 0 refused the device: tool " + tool.toAbsolutePath() + " says no: no key for this host");
    }

    @Test
    void missingTool_isRefusedWithWhatToDo() {
        assertThatThrownBy(() -> check(dir.resolve("nope"), ToolDialect.FERRY, "tpm", Mode.LIVE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tool " + dir.resolve("nope") + " does not exist; give the path of the tool's executable");
    }
}
