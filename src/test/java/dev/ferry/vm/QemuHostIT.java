package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real QEMU (under TCG, no guest kernel: it sits in firmware) and a real swtpm. */
class QemuHostIT {
    static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    static final Path SWTPM = Path.of("/usr/bin/swtpm");
    static final QemuHost.Timeouts TIMEOUTS = new QemuHost.Timeouts(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10));

    final ProcessRunner runner = new ProcessRunner();
    // JUnit makes it under java.io.tmpdir with a short name: run directories hold Unix sockets,
    // whose paths are limited to 107 bytes.
    @TempDir
    Path root;
    Path images;
    Path runRoot;

    @BeforeEach
    void dirs() throws Exception {
        images = Files.createDirectory(root.resolve("img"));
        runRoot = root.resolve("run");
    }

    @AfterEach
    void noLeftovers() throws Exception {
        for (long pid : processesMentioning(root)) {
            Processes.kill(pid);
        }
        assertThat(processesMentioning(root)).as("processes left behind").isEmpty();
    }

    QemuHost newHost() {
        return new QemuHost(runRoot, QEMU, SWTPM, runner, TIMEOUTS, () -> false);
    }

    VmSpec spec(String name, String disk) throws Exception {
        return spec(name, disk, "");
    }

    VmSpec spec(String name, String disk, String tpmExtra) throws Exception {
        return VmSpecParser.parse("""
                name: %s
                memoryMiB: 64
                devices:
                  - {type: disk, id: data0, path: %s, format: qcow2}
                  - {type: nic, id: net0, backend: user}
                  - {type: tpm, id: tpm0, backend: swtpm%s}
                """.formatted(name, disk, tpmExtra), images);
    }

    void qcow2(String file) throws Exception {
        ProcResult r = runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", images.resolve(file).toString(), "16M")
                .timeout(Duration.ofSeconds(30)));
        assertThat(r.ok()).as(r.describe()).isTrue();
    }

    @Test
    void aVmSurvivesItsStarter_andStopsCleanlyFromANewHost() throws Exception {
        qcow2("data.qcow2");
        VmHandle vm = newHost().start(spec("web1", "data.qcow2"));
        long qemuPid = vm.pid();
        long swtpmPid = swtpmPid("web1");

        assertThat(vm.state()).isEqualTo(VmState.RUNNING);
        vm.pause();
        assertThat(vm.state()).isEqualTo(VmState.PAUSED);
        vm.resume();
        assertThat(vm.state()).isEqualTo(VmState.RUNNING);
        assertThat(Processes.isAlive(swtpmPid)).isTrue();

        vm.close();
        assertThat(Processes.isAlive(qemuPid)).as("QEMU outlives a closed handle").isTrue();

        VmHandle again = newHost().reattach("web1").orElseThrow();
        CompletableFuture<VmState> exit = new CompletableFuture<>();
        again.onExit(exit::complete);
        assertThat(again.pid()).isEqualTo(qemuPid);
        assertThat(again.state()).isEqualTo(VmState.RUNNING);

        again.stop(Duration.ofSeconds(1));

        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(VmState.STOPPED);
        assertThat(Processes.isAlive(qemuPid)).isFalse();
        assertThat(Processes.isAlive(swtpmPid)).isFalse();
        assertThat(runRoot.resolve("web1")).doesNotExist();
        assertThat(again.isAlive()).isFalse();
        assertThat(again.state()).isEqualTo(VmState.STOPPED);
    }

    @Test
    void reattachToAKilledQemu_isEmptyAndCleansUp() throws Exception {
        qcow2("data.qcow2");
        Files.writeString(images.resolve("tpm.key"), "00112233445566778899aabbccddeeff".repeat(2) + "\n");
        VmHandle vm = newHost().start(spec("web2", "data.qcow2", ", encryptionKeyFile: tpm.key"));
        CompletableFuture<VmState> exit = new CompletableFuture<>();
        vm.onExit(exit::complete);
        long swtpmPid = swtpmPid("web2");

        Processes.kill(vm.pid());

        assertThat(exit.get(10, TimeUnit.SECONDS)).as("the handle notices QEMU's death").isEqualTo(VmState.CRASHED);
        assertThat(vm.isAlive()).isFalse();
        vm.close();
        Optional<VmHandle> again = newHost().reattach("web2");

        assertThat(again).isEmpty();
        assertThat(Processes.awaitExit(swtpmPid, Duration.ofSeconds(5))).isTrue();
        assertThat(runRoot.resolve("web2")).doesNotExist();
    }

    @Test
    void aFailedStart_leavesNothingAndQuotesQemu() throws Exception {
        Files.writeString(images.resolve("broken.qcow2"), "this is not a qcow2 image");
        VmSpec spec = spec("web3", "broken.qcow2");

        assertThatThrownBy(() -> newHost().start(spec))
                .isInstanceOf(VmException.class)
                .hasMessageStartingWith("vm 'web3': QEMU did not start: ")
                .hasMessageContaining("Image is not in qcow2 format");
        assertThat(runRoot.resolve("web3")).doesNotExist();
        assertThat(processesMentioning(root)).isEmpty();
    }

    @Test
    void startingARunningVmAgain_isRefused() throws Exception {
        qcow2("data.qcow2");
        QemuHost host = newHost();
        VmHandle vm = host.start(spec("web4", "data.qcow2"));
        try {
            assertThatThrownBy(() -> host.start(spec("web4", "data.qcow2")))
                    .isInstanceOf(VmException.class)
                    .hasMessageContaining("vm 'web4': already running (QEMU pid " + vm.pid() + ")");
            assertThat(vm.state()).isEqualTo(VmState.RUNNING);
        } finally {
            vm.destroy();
        }
        assertThat(runRoot.resolve("web4")).doesNotExist();
    }

    long swtpmPid(String vm) {
        OptionalLong pid = PidFile.read(runRoot.resolve(vm).resolve("swtpm.pid"));
        assertThat(pid).isPresent();
        return pid.getAsLong();
    }

    static List<Long> processesMentioning(Path dir) {
        return ProcessHandle.allProcesses()
                .map(ProcessHandle::pid)
                .filter(pid -> pid != ProcessHandle.current().pid())
                .filter(pid -> Processes.commandLine(pid).map(c -> c.contains(dir.toString())).orElse(false))
                .toList();
    }
}
