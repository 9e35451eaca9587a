package dev.ferry.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Whatever a VM name, destination or device id holds (spaces, quotes, shell syntax, newlines,
 * leading dashes, any script), each reaches the tool as exactly one argv element, unchanged.
 */
class ToolArgumentsProperties {
    private static Path dir;
    private static Path tool;
    private static final ToolRunner RUNNER = new ToolRunner(new ProcessRunner());

    @BeforeContainer
    static void recordingTool() throws IOException {
        dir = Files.createTempDirectory("tool-args");
        tool = dir.resolve("echo-argv");
        // Writes its argv NUL-separated, so the test reads back exactly what the kernel handed over.
        Files.writeString(tool, "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$0.out\"\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterContainer
    static void removeTool() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Property(tries = 500)
    void ferryDialect_passesEachValueAsOneUnchangedElement(@ForAll("values") String vm, @ForAll("values") String destination,
                                                           @ForAll("values") String deviceId, @ForAll("steps") Step step) {
        ToolSpec spec = ToolSpec.of(Path.of("/opt/tool"), ToolDialect.FERRY);
        List<String> argv = ToolArguments.argv(spec, ctx(vm, destination, deviceId), step, step == null ? Step.PRE_SUSPEND : null);

        assertThat(argv).hasSize(step == null ? 17 : 15);
        assertThat(argv.subList(0, 15)).containsExactly("/opt/tool", "--step", step == null ? "recover" : step.toolName(),
                "--device-type", "external", "--device-id", deviceId, "--vm", vm,
                "--vm-uuid", "6f1c0e52-0000-4000-8000-000000000000", "--mode", "live", "--destination", destination);
    }

    @Property(tries = 500)
    void xenDialect_passesEachValueAsOneUnchangedElement(@ForAll("values") String vm, @ForAll("values") String destination,
                                                         @ForAll("values") String deviceId, @ForAll("steps") Step step) {
        ToolSpec spec = ToolSpec.of(Path.of("/opt/tool"), ToolDialect.XEN);
        List<String> argv = ToolArguments.argv(spec, ctx(vm, destination, deviceId), step, step == null ? Step.SYNC : null);

        String n = Integer.toString(step == null ? Step.SYNC.xenNumber() : step.xenNumber());
        assertThat(argv.subList(0, 9)).containsExactly("/opt/tool", "-type", "fpga", "-step", n, "-host", destination,
                "-domname", vm);
        assertThat(argv).hasSize(step == null ? 10 : 9);
    }

    /** Few tries: each one starts a real process. */
    @Property(tries = 50)
    void aRealTool_receivesTheValuesVerbatim(@ForAll("passable") String vm, @ForAll("passable") String destination,
                                             @ForAll("passable") String deviceId, @ForAll boolean xen) throws Exception {
        ToolSpec spec = ToolSpec.of(tool, xen ? ToolDialect.XEN : ToolDialect.FERRY);
        DeviceContext ctx = ctx(vm, destination, deviceId);

        RUNNER.run(spec, ctx, Step.PRE_SUSPEND, null);

        List<String> expected = ToolArguments.argv(spec, ctx, Step.PRE_SUSPEND, null);
        assertThat(received()).isEqualTo(expected.subList(1, expected.size()));
    }

    @Provide
    Arbitrary<String> values() {
        return Arbitraries.oneOf(hostile(), Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.strings().withChars(" \t\n'\"\\$`;|&<>*?-=()[]{}#~!%\0").ofMaxLength(20));
    }

    /**
     * What an argv element can hold at all: no NUL (the kernel ends arguments there) and no lone
     * UTF-16 surrogate (it has no UTF-8 form), everything else included.
     */
    @Provide
    Arbitrary<String> passable() {
        return Arbitraries.oneOf(hostile(),
                Arbitraries.strings().withCharRange('\u0001', '\ud7ff').withCharRange('\ue000', '\ufffd').ofMaxLength(30),
                Arbitraries.strings().withChars(" \t\n'\"\\$`;|&<>*?-=()[]{}#~!%").ofMaxLength(20));
    }

    @Provide
    Arbitrary<Step> steps() {
        return Arbitraries.of(Step.CHECK, Step.PRE_SUSPEND, Step.POST_SUSPEND, Step.SYNC).injectNull(0.2);
    }

    private static Arbitrary<String> hostile() {
        return Arbitraries.of("", " ", "a b", "$(reboot)", "`reboot`", "'; DROP TABLE vms;--", "../../etc/passwd",
                "--step", "-recover", "--vm=x", "line\nbreak", "tab\there", "\"quoted\"", "*", "~", "ünïcødé 漢字 🚀",
                "x".repeat(4000));
    }

    private static DeviceContext ctx(String vm, String destination, String deviceId) {
        return new DeviceContext(vm, "6f1c0e52-0000-4000-8000-000000000000", new DeviceRef(deviceId, "external", "fpga"),
                Mode.LIVE, destination, e -> {});
    }

    private static List<String> received() throws IOException {
        byte[] raw = Files.readAllBytes(Path.of(tool + ".out"));
        String text = new String(raw, StandardCharsets.UTF_8);
        return Arrays.asList(text.substring(0, text.length() - 1).split("\0", -1));
    }
}
