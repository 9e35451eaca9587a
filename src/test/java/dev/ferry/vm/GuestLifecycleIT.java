package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.guest.GuestSpecs;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import dev.ferry.proc.RunningProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real test guest through {@link QemuHost}: a spec from {@link GuestSpecs} (kernel boot, qcow2
 * data disk, swtpm vTPM, user NIC) booted under TCG, driven over QMP, and checked by what the
 * guest prints on its serial console and leaves on its disk.
 */
class GuestLifecycleIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final Duration TICKS_GO_ON = Duration.ofSeconds(10);
    /** A dozen of the guest's 100 ms ticks: long enough that a guest still running would have printed some. */
    private static final Duration PAUSED_QUIET = Duration.ofMillis(1200);
    private static final String ZERO_PCR = "0".repeat(64);

    private static final ProcessRunner runner = new ProcessRunner();
    private static GuestArtifacts guest;

    // JUnit makes it under java.io.tmpdir with a short name: run directories hold Unix sockets,
    // whose paths are limited to 107 bytes.
    @TempDir
    Path root;
    private Path runRoot;

    @BeforeAll
    static void buildGuestOnce() throws Exception {
        guest = GuestKit.inUserCache(runner).build();
    }

    @BeforeEach
    void dirs() throws Exception {
        runRoot = root.resolve("run");
    }

    @AfterEach
    void noLeftovers() throws Exception {
        for (long pid : QemuHostIT.processesMentioning(root)) {
            Processes.kill(pid);
        }
        assertThat(QemuHostIT.processesMentioning(root)).as("processes left behind").isEmpty();
    }

    private QemuHost newHost() {
        return new QemuHost(runRoot, QemuHostIT.QEMU, QemuHostIT.SWTPM, runner, QemuHostIT.TIMEOUTS);
    }

    private GuestSpecs.Written writeSpec(String name) throws Exception {
        return new GuestSpecs(runner).write(guest, name, root.resolve("vms"), "16M", GuestSpecs.DEFAULT_MEMORY_MIB);
    }

    @Test
    void theGuestBootsTicksWritesAndMeasures_pauseStopsItsTicks_andItsDiskIsCleanAfterStop() throws Exception {
        GuestSpecs.Written written = writeSpec("life1");
        assertThat(written.diskCreated()).isTrue();
        VmHandle vm = newHost().start(written.parsed());
        Path serial = vm.serialLog();

        GuestConsole booted = GuestConsole.await(serial,
                c -> c.lastTick() >= 5 && c.lastWrote() >= 5 && c.pcrs().containsKey(0), BOOT);
        assertThat(booted.lastTick()).as("ticks within %s; serial:%n%s", BOOT, booted.lines()).isGreaterThanOrEqualTo(5);
        assertThat(booted.lastWrote()).as("records written").isGreaterThanOrEqualTo(5);
        assertThat(booted.pcrs().get(0)).as("PCR 0 of the vTPM").isNotNull().isNotEqualTo(ZERO_PCR);
        assertThat(booted.lines()).noneMatch(l -> l.startsWith("insmod-failed") || l.startsWith("write-failed"));

        vm.pause();
        assertThat(vm.state()).isEqualTo(VmState.PAUSED);
        long pausedAt = GuestConsole.read(serial).lastTick();
        // That nothing happens can only be seen over a bounded time; the check holds throughout it, not only at its end.
        await("no ticks while paused").during(PAUSED_QUIET).atMost(PAUSED_QUIET.plusSeconds(1))
                .untilAsserted(() -> assertThat(GuestConsole.read(serial).lastTick()).as("ticks while paused").isEqualTo(pausedAt));

        vm.resume();
        assertThat(vm.state()).isEqualTo(VmState.RUNNING);
        GuestConsole resumed = GuestConsole.await(serial, c -> c.lastTick() >= pausedAt + 5, TICKS_GO_ON);
        assertThat(resumed.lastTick()).as("ticks after resume").isGreaterThanOrEqualTo(pausedAt + 5);

        // Paused, the guest writes nothing more, so its last 'wrote' is final; stop removes the log with the run dir.
        vm.pause();
        long lastWrote = GuestConsole.read(serial).lastWrote();
        assertThat(lastWrote).isGreaterThan(booted.lastWrote());
        CompletableFuture<VmState> exit = new CompletableFuture<>();
        vm.onExit(exit::complete);
        // The guest has no ACPI handling, so stop falls back to quit after the grace.
        vm.stop(Duration.ofSeconds(1));
        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(VmState.STOPPED);

        DiskReport report = DiskVerifier.verify(written.disk(), runner);
        assertThat(report.clean()).as(report.toString()).isTrue();
        assertThat(report.highestContiguous()).as("records on disk vs last 'wrote'").isGreaterThanOrEqualTo(lastWrote);
        assertThat(vm.runDir()).doesNotExist();
    }

    @Test
    void whenTheStarterDies_theVmRunsOn_andANewHostReattachesAndStopsItCleanly() throws Exception {
        GuestSpecs.Written written = writeSpec("life2");
        CompletableFuture<Long> started = new CompletableFuture<>();
        RunningProcess starter = runner.start(Command.of(javaBinary().toString(), "-cp", System.getProperty("java.class.path"),
                        DetachedStarter.class.getName(), runRoot.toString(), written.spec().toString())
                .timeout(Duration.ofMinutes(2))
                .onStdoutLine(line -> {
                    if (line.startsWith("started ")) {
                        started.complete(Long.parseLong(line.substring("started ".length()).strip()));
                    }
                }));
        long qemuPid;
        try {
            qemuPid = started.get(60, TimeUnit.SECONDS);
        } finally {
            starter.kill();
        }
        assertThat(starter.await(Duration.ofSeconds(10))).as("the starter JVM is gone").isPresent();
        Path run = RunDir.of(runRoot, "life2").path();
        long swtpmPid = PidFile.read(run.resolve("swtpm.pid")).orElseThrow();

        Path serial = RunDir.of(runRoot, "life2").serialLog();
        GuestConsole before = GuestConsole.await(serial, c -> c.lastTick() >= 3, BOOT);
        assertThat(before.lastTick()).as("the guest ticks without its starter; serial:%n%s", before.lines())
                .isGreaterThanOrEqualTo(3);
        GuestConsole later = GuestConsole.await(serial, c -> c.lastTick() >= before.lastTick() + 3, TICKS_GO_ON);
        assertThat(later.lastTick()).isGreaterThanOrEqualTo(before.lastTick() + 3);

        VmHandle vm = newHost().reattach("life2").orElseThrow();
        assertThat(vm.pid()).isEqualTo(qemuPid);
        assertThat(vm.state()).isEqualTo(VmState.RUNNING);
        vm.stop(Duration.ofSeconds(1));

        assertThat(Processes.isAlive(qemuPid)).as("QEMU").isFalse();
        assertThat(Processes.isAlive(swtpmPid)).as("swtpm").isFalse();
        assertThat(QemuHostIT.processesMentioning(run)).as("processes naming the run directory").isEmpty();
        assertThat(run).doesNotExist();
    }

    private static Path javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }
}
