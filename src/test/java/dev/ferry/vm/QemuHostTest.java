package dev.ferry.vm;

import dev.ferry.proc.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What QemuHost decides before it starts anything; starting real QEMU is in {@link QemuHostIT}. */
class QemuHostTest {
    @TempDir
    Path dir;

    QemuHost host(Path runRoot) {
        return new QemuHost(runRoot, Path.of("/nonexistent/qemu"), Path.of("/nonexistent/swtpm"), new ProcessRunner(),
                QemuHost.Timeouts.DEFAULT, () -> false);
    }

    static VmSpec spec(String name) {
        return new VmSpec(name, UUID.randomUUID(), 64, 1, "q35", null, List.of());
    }

    @Test
    void aRunRootWithAComma_isRefused() {
        assertThatThrownBy(() -> host(dir.resolve("a,b")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("contains ','");
    }

    @Test
    void aRunDirTooLongForASocket_isRefusedBeforeAnythingStarts() {
        Path deep = dir.resolve("x".repeat(100));

        assertThatThrownBy(() -> host(deep).start(spec("web1")))
                .isInstanceOf(VmException.class)
                .hasMessageContaining("vm 'web1'").hasMessageContaining("too long for a Unix socket path");
        assertThat(deep).doesNotExist();
    }

    @Test
    void aMissingQemu_failsNamingTheVmAndLeavesNoRunDir() {
        assertThatThrownBy(() -> host(dir).start(spec("web1")))
                .isInstanceOf(VmException.class)
                .hasMessageStartingWith("vm 'web1': cannot run QEMU (/nonexistent/qemu)");
        assertThat(dir.resolve("web1")).doesNotExist();
    }

    @Test
    void reattach_withoutARunDir_isEmpty() throws Exception {
        assertThat(host(dir).reattach("web1")).isEmpty();
    }

    @Test
    void aPidfileNamingSomeOtherProcess_isNotTrusted() throws Exception {
        // This JVM stands in for a process that got a dead QEMU's (or swtpm's) recycled pid.
        String self = Long.toString(ProcessHandle.current().pid());
        Path run = Files.createDirectories(dir.resolve("web1"));
        Files.writeString(run.resolve("qemu.pid"), self);
        Files.writeString(run.resolve("swtpm.pid"), self);

        assertThat(host(dir).reattach("web1")).isEmpty();
        assertThat(run).doesNotExist();
        assertThat(ProcessHandle.current().isAlive()).isTrue();
    }

    @Test
    void swtpmArgv_runsADaemonInTheRunDir_withTheKeyWhenGiven() {
        RunDir run = new RunDir(Path.of("/run/ferry/web1"));

        assertThat(Swtpm.argv(Path.of("/usr/bin/swtpm"), run, null)).containsExactly("/usr/bin/swtpm", "socket", "--tpm2",
                "--tpmstate", "dir=/run/ferry/web1/swtpm", "--ctrl", "type=unixio,path=/run/ferry/web1/swtpm.sock",
                "--pid", "file=/run/ferry/web1/swtpm.pid", "--log", "file=/run/ferry/web1/swtpm.log", "--daemon", "--terminate");
        assertThat(Swtpm.argv(Path.of("swtpm"), run, Path.of("/etc/ferry/tpm.key")))
                .endsWith("--key", "file=/etc/ferry/tpm.key,mode=aes-256-cbc");
    }

    @Test
    void pidFiles_acceptOnlyAPlausiblePid() throws Exception {
        Files.writeString(dir.resolve("a"), "1234\n");
        Files.writeString(dir.resolve("b"), "1");
        Files.writeString(dir.resolve("c"), "12x");

        assertThat(PidFile.read(dir.resolve("a"))).hasValue(1234);
        assertThat(PidFile.read(dir.resolve("b"))).isEmpty();
        assertThat(PidFile.read(dir.resolve("c"))).isEmpty();
        assertThat(PidFile.read(dir.resolve("missing"))).isEmpty();
        assertThat(PidFile.followedBy(List.of("q", "-pidfile", "/r/qemu.pid"), "-pidfile", "/r/qemu.pid")).isTrue();
        assertThat(PidFile.followedBy(List.of("q", "-pidfile", "/other/qemu.pid"), "-pidfile", "/r/qemu.pid")).isFalse();
    }
}
