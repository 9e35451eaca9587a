package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A path swapped for a symlink between the check and QEMU's start (the TOCTOU race an attacker who
 * can rename files in a root would run) does not change what the real QEMU opens: it is given the
 * path the check resolved. The test looks at the files QEMU holds open in {@code /proc/PID/fd}.
 */
class ConfinedQemuIT {
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    private static final Path SWTPM = Path.of("/usr/bin/swtpm");

    private final ProcessRunner runner = new ProcessRunner();
    @TempDir
    Path dir;

    @AfterEach
    void noLeftovers() throws Exception {
        for (long pid : QemuHostIT.processesMentioning(dir)) {
            Processes.kill(pid);
            Processes.awaitExit(pid, Duration.ofSeconds(10));
        }
    }

    @Test
    void aDiskLinkSwappedAfterTheCheck_leavesQemuOnTheFileThatWasChecked() throws Exception {
        Path images = Files.createDirectories(dir.resolve("img"));
        Path elsewhere = Files.createDirectories(dir.resolve("out"));
        Path checked = qcow2(images.resolve("a.qcow2"));
        Path target = qcow2(elsewhere.resolve("b.qcow2"));
        Path link = Files.createSymbolicLink(images.resolve("disk.qcow2"), Path.of("a.qcow2"));
        VmSpec spec = VmSpecParser.parse("""
                name: toctou
                memoryMiB: 64
                devices:
                  - {type: disk, id: data0, path: disk.qcow2, format: qcow2}
                """, images);
        PathRoots roots = PathRoots.of(dir.resolve("data"), List.of(images), List.of(), List.of(), List.of());

        VmSpec confined = SpecPaths.confine(spec, roots);
        Files.delete(link);
        Files.createSymbolicLink(link, target);
        VmHandle vm = new QemuHost(dir.resolve("run"), QEMU, SWTPM, runner, QemuHost.Timeouts.DEFAULT, () -> false)
                .start(confined);
        try {
            assertThat(openFiles(vm.pid())).as("the files QEMU holds open").contains(checked).doesNotContain(target);
            assertThat(vm.qmp().execute("query-named-block-nodes").toString())
                    .contains("\"" + checked + "\"").doesNotContain(target.toString());
        } finally {
            vm.destroy();
        }
    }

    private Path qcow2(Path file) throws IOException, InterruptedException {
        ProcResult r = runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", file.toString(), "16M")
                .timeout(Duration.ofSeconds(30)));
        assertThat(r.ok()).as(r.describe()).isTrue();
        return file;
    }

    /** What each of the process's file descriptors points to. */
    private static List<Path> openFiles(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd);
                } catch (IOException e) {
                    return fd;
                }
            }).toList();
        }
    }
}
