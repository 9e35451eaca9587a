package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.RunningProcess;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boots the real test guest under QEMU (TCG) with a qcow2 data disk and a swtpm vTPM, and checks
 * what it prints and what it leaves on the disk.
 */
class GuestBootIT {
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(60);
    /** Fine enough to time the guest's ticks, which the first test expects 80 to 400 ms apart. */
    private static final Duration POLL = Duration.ofMillis(20);

    private final ProcessRunner runner = new ProcessRunner();
    private final List<RunningProcess> started = new ArrayList<>();
    @TempDir
    Path dir;

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (RunningProcess process : started) {
            process.kill();
            process.await(Duration.ofSeconds(10));
        }
    }

    @Test
    void guestBootsTicksWritesRecordsAndReadsTheVtpm() throws Exception {
        GuestArtifacts guest = GuestKit.inUserCache(runner).build();
        long warm = System.nanoTime();
        assertThat(GuestKit.inUserCache(runner).build()).isEqualTo(guest);
        System.out.printf("guest kit: kernel %s, cached build took %d ms%n", guest.kernelVersion(),
                (System.nanoTime() - warm) / 1_000_000);
        Path disk = createDisk();

        long bootStart = System.nanoTime();
        Boot boot = boot(guest, disk, "first");
        boot.await("tick 1"::equals);
        System.out.printf("guest boot: first tick %d ms after QEMU started%n", (System.nanoTime() - bootStart) / 1_000_000);
        long tick10 = boot.await("tick 10"::equals);
        long tick40 = boot.await("tick 40"::equals);
        boot.await("wrote 20"::equals);

        List<String> lines = boot.lines();
        assertThat(lines).anyMatch(l -> l.matches("boot [0-9a-f-]{36}"));
        assertThat(lines).contains("disk new");
        assertThat(lines).noneMatch(l -> l.startsWith("insmod-failed") || l.startsWith("write-failed"));
        String pcr0 = lines.stream().filter(l -> l.startsWith("pcr-sha256 0 ")).findFirst().orElseThrow();
        assertThat(pcr0).matches("pcr-sha256 0 [0-9A-Fa-f]{64}").doesNotMatch("pcr-sha256 0 0{64}");
        // PCRs 0-7 at boot and again every 2 s: whole groups of 8, and nothing extends them meanwhile.
        List<String> pcrLines = lines.stream().filter(l -> l.startsWith("pcr-sha256 ")).toList();
        assertThat(pcrLines).isNotEmpty();
        assertThat(pcrLines.size() % 8).isZero();
        assertThat(new java.util.HashSet<>(pcrLines)).hasSize(8);
        assertThat(numbers(lines, "tick ")).startsWith(1L, 2L, 3L).isSorted().doesNotHaveDuplicates();
        double cadence = (tick40 - tick10) / 30 / 1e6;
        System.out.printf("guest ticks: %.0f ms apart on average%n", cadence);
        assertThat(cadence).as("ms between ticks").isBetween(80.0, 400.0);

        boot.quit();
        List<Long> written = numbers(boot.lines(), "wrote ");
        assertThat(written).isSorted().doesNotHaveDuplicates();
        long lastWritten = written.get(written.size() - 1);

        DiskReport report = DiskVerifier.verify(disk, runner);

        System.out.printf("guest disk: last 'wrote' %d, %s%n", lastWritten, report);
        assertThat(report.clean()).as(report.toString()).isTrue();
        assertThat(report.highestContiguous()).isGreaterThanOrEqualTo(lastWritten);
    }

    @Test
    void guestBootedAgainOnAUsedDisk_continuesAfterTheHighestRecord() throws Exception {
        GuestArtifacts guest = GuestKit.inUserCache(runner).build();
        Path disk = createDisk();
        Boot first = boot(guest, disk, "first");
        first.await("wrote 10"::equals);
        first.quit();
        long highest = DiskVerifier.verify(disk, runner).highestContiguous();

        Boot second = boot(guest, disk, "second");
        second.await(("disk resume " + highest)::equals);
        second.await(("wrote " + (highest + 10))::equals);
        second.quit();

        assertThat(numbers(second.lines(), "wrote ")).first().isEqualTo(highest + 1);
        assertThat(bootId(second.lines())).isNotEqualTo(bootId(first.lines()));
        DiskReport report = DiskVerifier.verify(disk, runner);
        assertThat(report.clean()).as(report.toString()).isTrue();
        assertThat(report.highestContiguous()).isGreaterThanOrEqualTo(highest + 10);
    }

    private Path createDisk() throws Exception {
        Path disk = dir.resolve("data.qcow2");
        ProcResult created = runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), "64M")
                .timeout(Duration.ofSeconds(30)));
        assertThat(created.ok()).as(created.describe()).isTrue();
        return disk;
    }

    /** Starts a vTPM and QEMU booting the guest on {@code disk}; {@code name} keeps each boot's files apart. */
    private Boot boot(GuestArtifacts guest, Path disk, String name) throws Exception {
        Path tpmSocket = startSwtpm(name);
        Path serial = dir.resolve(name + "-serial.log");
        Path monitor = dir.resolve(name + "-monitor.sock");
        RunningProcess qemu = start(Command.of("qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "256",
                "-nodefaults", "-display", "none", "-no-reboot",
                "-serial", "file:" + serial,
                "-monitor", "unix:" + monitor + ",server=on,wait=off",
                "-kernel", guest.kernel().toString(), "-initrd", guest.initramfs().toString(),
                "-append", guest.kernelCmdline(),
                "-drive", "file=" + disk + ",if=none,id=d0,format=qcow2,cache=none,aio=threads",
                "-device", "virtio-blk-pci,drive=d0",
                "-chardev", "socket,id=chrtpm,path=" + tpmSocket,
                "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                "-device", "tpm-tis,tpmdev=tpm0"));
        return new Boot(qemu, serial, monitor);
    }

    private static String bootId(List<String> lines) {
        return lines.stream().filter(l -> l.startsWith("boot ")).findFirst().orElseThrow();
    }

    /** swtpm in the foreground, so the runner owns it; it starts from an empty state directory. */
    private Path startSwtpm(String name) throws Exception {
        Path state = Files.createDirectories(dir.resolve("tpm"));
        Path socket = dir.resolve(name + "-swtpm.sock");
        start(Command.of("swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                "--ctrl", "type=unixio,path=" + socket, "--log", "level=1,file=" + dir.resolve(name + "-swtpm.log")));
        await("swtpm socket " + socket).atMost(Duration.ofSeconds(10)).pollInterval(POLL).until(() -> Files.exists(socket));
        return socket;
    }

    private RunningProcess start(Command command) throws IOException {
        RunningProcess process = runner.start(command);
        started.add(process);
        return process;
    }

    /** One running guest: its QEMU, serial log and monitor socket. */
    private record Boot(RunningProcess qemu, Path serial, Path monitor) {
        long await(Predicate<String> wanted) throws Exception {
            return awaitLine(serial, qemu, wanted);
        }

        List<String> lines() throws IOException {
            return GuestBootIT.lines(serial);
        }

        void quit() throws Exception {
            GuestBootIT.quit(monitor, qemu);
        }
    }

    /** Asks QEMU to quit through its human monitor and waits for it to exit. */
    private static void quit(Path monitor, RunningProcess qemu) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(monitor));
            channel.write(ByteBuffer.wrap("quit\n".getBytes(StandardCharsets.US_ASCII)));
            Optional<ProcResult> exited = qemu.await(Duration.ofSeconds(20));
            assertThat(exited).as("QEMU exits after 'quit'").isPresent();
        }
    }

    /** Waits for a serial line, failing at once if QEMU exits; returns System.nanoTime() when it was first seen. */
    private static long awaitLine(Path serial, RunningProcess qemu, Predicate<String> wanted) {
        await("a line on the serial log " + serial).atMost(BOOT_LIMIT).pollInterval(POLL)
                .failFast("QEMU exited", () -> {
                    if (!qemu.isAlive()) {
                        throw new AssertionError("QEMU exited: " + qemu.await().describe() + "\nserial:\n" + String.join("\n", lines(serial)));
                    }
                })
                .untilAsserted(() -> assertThat(lines(serial)).as("serial log").anyMatch(wanted));
        return System.nanoTime();
    }

    /** Complete lines of the serial log, without the tty's carriage returns. */
    private static List<String> lines(Path serial) throws IOException {
        if (!Files.exists(serial)) {
            return List.of();
        }
        String text = Files.readString(serial, StandardCharsets.ISO_8859_1);
        int end = text.lastIndexOf('\n');
        return end < 0 ? List.of() : text.substring(0, end).lines().map(String::strip).toList();
    }

    private static List<Long> numbers(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix) && l.substring(prefix.length()).matches("[0-9]+"))
                .map(l -> Long.parseLong(l.substring(prefix.length()))).toList();
    }
}
