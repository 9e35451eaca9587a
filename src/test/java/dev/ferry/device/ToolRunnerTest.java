package dev.ferry.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToolRunnerTest {
    @TempDir
    Path dir;

    private final ToolRunner runner = new ToolRunner(new ProcessRunner());
    private final List<DeviceEvent> events = Collections.synchronizedList(new ArrayList<>());

    private DeviceContext ctx(String type, String vm, String destination) {
        return new DeviceContext(vm, "6f1c0e52-uuid", new DeviceRef("tpm0", type, ""), Mode.LIVE, destination, events::add);
    }

    /** A tool that records its argv (NUL-separated) to argv.bin, then runs {@code body}. */
    private Path tool(String body) throws IOException {
        Path script = dir.resolve("tool.sh");
        Files.writeString(script, "#!/bin/sh\nprintf '%s\\0' \"$@\" > " + dir.resolve("argv.bin") + "\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private List<String> recordedArgv() throws IOException {
        String raw = Files.readString(dir.resolve("argv.bin"), StandardCharsets.UTF_8);
        return Arrays.asList(raw.substring(0, raw.length() - 1).split("\0", -1));
    }

    @Test
    void xenDialect_passesExactlyTheXendCommandLine() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("exit 0"), ToolDialect.XEN);

        runner.run(spec, ctx("tpm", "web1", "host-b"), Step.POST_SUSPEND, null);

        assertThat(recordedArgv()).containsExactly("-type", "vtpm", "-step", "2", "-host", "host-b", "-domname", "web1");
    }

    @Test
    void xenDialect_recovery_addsRecoverFlagWithTheLastGoodStep() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("exit 0"), ToolDialect.XEN);

        runner.run(spec, ctx("tpm", "web1", "host-b"), null, Step.PRE_SUSPEND);

        assertThat(recordedArgv()).containsExactly("-type", "vtpm", "-step", "1", "-host", "host-b", "-domname", "web1",
                "-recover");
    }

    @Test
    void ferryDialect_aDiskWithADestinationPath_getsIt() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("exit 0"), ToolDialect.FERRY);
        DeviceContext disk = new DeviceContext("web1", "6f1c0e52-uuid", new DeviceRef("data0", "disk", "local"),
                Mode.LIVE, "host-b", events::add).withEndpoint("/srv/ferry/images/web1/data0.raw");

        runner.run(spec, disk, Step.POST_SUSPEND, null);

        assertThat(recordedArgv()).containsSequence("--destination-path", "/srv/ferry/images/web1/data0.raw");
    }

    @Test
    void ferryDialect_withoutAnEndpoint_passesNoDestinationPath() throws Exception {
        runner.run(ToolSpec.of(tool("exit 0"), ToolDialect.FERRY), ctx("tpm", "web1", "host-b"), Step.CHECK, null);

        assertThat(recordedArgv()).doesNotContain("--destination-path");
    }

    @Test
    void xenDialect_getsTheDestinationPathInItsEnvironment() throws Exception {
        Path seen = dir.resolve("env.txt");
        ToolSpec spec = ToolSpec.of(tool("printf '%s' \"$FERRY_DESTINATION_PATH\" > " + seen), ToolDialect.XEN);
        DeviceContext disk = new DeviceContext("web1", "6f1c0e52-uuid", new DeviceRef("data0", "disk", "local"),
                Mode.LIVE, "host-b", events::add).withEndpoint("/srv/ferry/images/web1/data0.raw");

        runner.run(spec, disk, Step.POST_SUSPEND, null);

        assertThat(recordedArgv()).containsExactly("-type", "vbd", "-step", "2", "-host", "host-b", "-domname", "web1");
        assertThat(Files.readString(seen)).isEqualTo("/srv/ferry/images/web1/data0.raw");
    }

    @Test
    void hostileNames_reachTheToolVerbatim() throws Exception {
        String vm = "web 1; rm -rf / $(reboot) `id` 'q' \"dq\" \\ \n*";
        String dest = "host b && echo pwned | tee /tmp/x";
        ToolSpec spec = ToolSpec.of(tool("exit 0"), ToolDialect.FERRY);

        runner.run(spec, ctx("external", vm, dest), Step.SYNC, null);

        assertThat(recordedArgv()).containsExactly("--step", "sync", "--device-type", "external", "--device-id", "tpm0",
                "--vm", vm, "--vm-uuid", "6f1c0e52-uuid", "--mode", "live", "--destination", dest);
    }

    @Test
    void ferryDialect_recovery_passesLastGoodStep() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("exit 0"), ToolDialect.FERRY);

        runner.run(spec, ctx("tpm", "web1", "b"), null, Step.POST_SUSPEND);

        assertThat(recordedArgv()).containsSequence("--step", "recover").endsWith("--last-good-step", "post-suspend");
    }

    @Test
    void ferryDialect_exit2AtCheck_refusesWithTheToolsWords() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("echo '{\"message\":\"key escrow offline\"}'; exit 2"), ToolDialect.FERRY);

        Verdict verdict = new ExternalToolController(runner, spec).check(ctx("tpm", "web1", "b"));

        assertThat(verdict.migratable()).isFalse();
        assertThat(verdict.reason()).endsWith("says no: key escrow offline");
    }

    @Test
    void ferryDialect_failure_quotesTheErrorLine_andReportsProgress() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("echo '{\"progress\":0.4}'; echo '{\"error\":\"peer tpm rejected the blob\"}'; exit 1"),
                ToolDialect.FERRY);

        assertThatThrownBy(() -> runner.run(spec, ctx("tpm", "web1", "b"), Step.POST_SUSPEND, null))
                .isInstanceOf(DeviceException.class)
                .hasMessageContaining("failed at post-suspend: peer tpm rejected the blob (exit 1)");
        assertThat(events).anySatisfy(e -> assertThat(e.fraction()).isEqualTo(0.4));
    }

    @Test
    void xenDialect_errorLineOnStdout_failsEvenWithExitZero() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("echo 'vtpm: Error: manager unreachable'; exit 0"), ToolDialect.XEN);

        assertThatThrownBy(() -> runner.run(spec, ctx("tpm", "web1", "b"), Step.PRE_SUSPEND, null))
                .hasMessageContaining("vtpm: Error: manager unreachable");
    }

    @Test
    void hangingTool_isKilledAtItsTimeout() throws Exception {
        ToolSpec spec = new ToolSpec(tool("sleep 30"), ToolDialect.FERRY, Map.of(Step.SYNC, Duration.ofMillis(300)),
                ToolSpec.DEFAULT_TIMEOUT, ToolSpec.DEFAULT_OUTPUT_CAP);

        assertThatThrownBy(() -> runner.run(spec, ctx("tpm", "web1", "b"), Step.SYNC, null))
                .hasMessageContaining("did not finish sync within 300 ms and was killed");
    }

    @Test
    void toolKilledBySignal_isAFailure() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("kill -9 $$"), ToolDialect.FERRY);

        assertThatThrownBy(() -> runner.run(spec, ctx("tpm", "web1", "b"), Step.PRE_SUSPEND, null))
                .hasMessageContaining("killed by signal 9 at pre-suspend");
    }

    @Test
    void missingTool_saysSo() {
        ToolSpec spec = ToolSpec.of(dir.resolve("no-such-tool"), ToolDialect.FERRY);

        assertThatThrownBy(() -> runner.run(spec, ctx("tpm", "web1", "b"), Step.CHECK, null))
                .hasMessageContaining("could not be started at check");
    }

    @Test
    void failingStep_withAShellTrace_quotesTheLastStderrLineThatIsNotATrace() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("set -x\nsize=$((1 + 1))\necho 'rsync: connection refused by peer' >&2\n"
                + "echo 'syncing tpm0' >/dev/null\nexit 7"), ToolDialect.FERRY);

        assertThatThrownBy(() -> runner.run(spec, ctx("tpm", "web1", "b"), Step.PRE_SUSPEND, null))
                .hasMessageEndingWith("failed at pre-suspend: rsync: connection refused by peer (exit 7)");
    }

    @Test
    void failingStep_aJsonErrorBeatsEveryOtherLine_evenFarBeforeTheEndOfAFlood() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("echo '{\"error\":\"bitstream checksum mismatch\"}'\n"
                + "echo 'Error: something later' >&2\nyes '{\"message\":\"still going\"}' | head -c 3000000\nexit 1"),
                ToolDialect.FERRY);

        assertThatThrownBy(() -> runner.run(spec, ctx("tpm", "web1", "b"), Step.SYNC, null))
                .hasMessageEndingWith("failed at sync: bitstream checksum mismatch (exit 1)");
    }

    @Test
    void failingStep_aLineWithError_beatsTheLastStderrLine() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("echo 'Error: vtpm manager unreachable' >&2\necho 'cleaning up' >&2\nexit 1"),
                ToolDialect.FERRY);

        assertThatThrownBy(() -> runner.run(spec, ctx("tpm", "web1", "b"), Step.SYNC, null))
                .hasMessageEndingWith("failed at sync: Error: vtpm manager unreachable (exit 1)");
    }

    @Test
    void failingStep_silentTool_saysItSaidNothing_andOnlyStdout_quotesItsLastLine() throws Exception {
        ToolSpec silent = ToolSpec.of(tool("exit 4"), ToolDialect.FERRY);
        assertThatThrownBy(() -> runner.run(silent, ctx("tpm", "web1", "b"), Step.SYNC, null))
                .hasMessageEndingWith("failed at sync: no output (exit 4)");

        ToolSpec chatty = ToolSpec.of(tool("echo 'step one'\necho '{\"message\":\"slot 3 is busy\"}'\n"
                + "echo '{\"progress\":0.2}'\nexit 4"), ToolDialect.FERRY);
        assertThatThrownBy(() -> runner.run(chatty, ctx("tpm", "web1", "b"), Step.SYNC, null))
                .hasMessageEndingWith("failed at sync: slot 3 is busy (exit 4)");
    }

    @Test
    void refusalAtCheck_withATracedShell_givesTheRealReason() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("set -x\nfree=0\necho 'no free slot on the destination card' >&2\nexit 2"),
                ToolDialect.FERRY);

        Verdict verdict = new ExternalToolController(runner, spec).check(ctx("tpm", "web1", "b"));

        assertThat(verdict.reason()).endsWith("says no: no free slot on the destination card");
    }

    @Test
    void select_isThePublicEntryPoint_withTheSameRules() {
        assertThat(ToolMessages.select(ToolDialect.FERRY, "{\"progress\":1}\n", "+ echo hi\n++ date\nreal reason\n+ exit 1\n"))
                .isEqualTo("real reason");
        assertThat(ToolMessages.select(ToolDialect.FERRY, "a\n{\"error\":\"json says\"}\nb\n", "Error: plain\n"))
                .isEqualTo("json says");
        assertThat(ToolMessages.select(ToolDialect.XEN, "{\"error\":\"not json to xen\"}\n", ""))
                .isEqualTo("{\"error\":\"not json to xen\"}");
        assertThat(ToolMessages.select(ToolDialect.FERRY, "", "+ true\n")).isNull();
        assertThat(ToolMessages.select(ToolDialect.FERRY, "x".repeat(5000), "")).hasSizeLessThan(1100).endsWith("more characters)");
    }

    @Test
    void aFloodOfMessagesAndProgress_isPassedOnBounded_withTheLastMessageAndACount() throws Exception {
        ToolSpec spec = ToolSpec.of(tool("i=0\nwhile [ $i -lt 3000 ]; do echo '{\"message\":\"m'$i'\",\"progress\":0.'$((i % 10))'}'; "
                + "i=$((i + 1)); done\necho '{\"message\":\"the end\"}'"), ToolDialect.FERRY);

        runner.run(spec, ctx("tpm", "web1", "b"), Step.PRE_SUSPEND, null);

        List<String> messages = events.stream().filter(e -> e.message() != null).map(DeviceEvent::message).toList();
        assertThat(messages).hasSize(ToolRunner.MAX_MESSAGES + 2);
        assertThat(messages.get(ToolRunner.MAX_MESSAGES)).isEqualTo("the end");
        long progress = events.stream().filter(e -> e.fraction() != null).count();
        assertThat(progress).isEqualTo(ToolRunner.MAX_PROGRESS);
        assertThat(messages.get(messages.size() - 1)).isEqualTo("at pre-suspend: " + (3001 - ToolRunner.MAX_MESSAGES - 1)
                + " more messages dropped, " + (3000 - ToolRunner.MAX_PROGRESS) + " more progress updates dropped");
    }

    @Test
    void aChildTheToolLeftBehind_isGoneWhenTheStepEnds() throws Exception {
        Path pid = dir.resolve("child.pid");
        ToolSpec spec = ToolSpec.of(tool("setsid sh -c 'echo $$ > " + pid + "; exec sleep 900' &\n"
                + "while [ ! -s " + pid + " ]; do sleep 0.01; done\nexit 0"), ToolDialect.FERRY);

        ToolRunner.Outcome outcome = runner.run(spec, ctx("tpm", "web1", "b"), Step.PRE_SUSPEND, null);

        long child = Long.parseLong(Files.readString(pid).strip());
        if (outcome.result().containment() == dev.ferry.proc.Containment.CGROUP) {
            assertThat(dev.ferry.proc.Processes.isAlive(child)).as("the setsid child of the tool").isFalse();
        } else {
            dev.ferry.proc.Processes.kill(child);
            assertThat(events).extracting(DeviceEvent::message).anySatisfy(m -> assertThat(m).contains("process group only"));
        }
    }
}
