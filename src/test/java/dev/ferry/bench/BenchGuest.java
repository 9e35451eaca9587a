package dev.ferry.bench;

import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The VM every benchmark migrates: the test guest (kernel and busybox initramfs) with a shared
 * qcow2 data disk it writes records to, a user-mode NIC and a swtpm TPM, plus whatever devices a
 * benchmark adds.
 */
final class BenchGuest {
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(120);
    private static final Duration RESUME_LIMIT = Duration.ofSeconds(30);

    private BenchGuest() {}

    /** The test guest's kernel and initramfs, built once and cached for the user. */
    static GuestArtifacts kit(ProcessRunner runner) throws Exception {
        return GuestKit.inUserCache(runner).build();
    }

    /** A fresh 64 MiB qcow2 image at {@code path}. */
    static Path dataDisk(Path path, ProcessRunner runner) throws IOException, InterruptedException {
        ProcResult made = runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", path.toString(), "64M"));
        if (!made.ok()) {
            throw new IOException("cannot create the data disk " + path + ": " + made.describe());
        }
        return path;
    }

    /** The spec: both agents run on this machine and see the same image, so the disk is shared storage. */
    static String spec(String name, GuestArtifacts kit, Path disk, List<String> extraDevices) {
        StringBuilder yaml = new StringBuilder("""
                name: %s
                memoryMiB: 256
                vcpus: 1
                kernel: "%s"
                initrd: "%s"
                cmdline: "%s"
                devices:
                  - {type: disk, id: data0, path: "%s", format: qcow2, shared: true}
                  - {type: nic, id: net0, backend: user}
                  - {type: tpm, id: tpm0, backend: swtpm}
                """.formatted(name, kit.kernel(), kit.initramfs(), kit.kernelCmdline(), disk));
        extraDevices.forEach(d -> yaml.append("  - ").append(d).append('\n'));
        return yaml.toString();
    }

    /** Waits until the guest booted: its PCRs read and a few records written. */
    static GuestConsole awaitBooted(Path serialLog) throws IOException, InterruptedException {
        GuestConsole up = GuestConsole.await(serialLog, c -> c.pcrs().size() == 8 && c.lastWrote() >= 3, BOOT_LIMIT);
        if (up.pcrs().size() != 8 || up.lastWrote() < 3) {
            throw new IllegalStateException("the test guest did not come up within " + BOOT_LIMIT.toSeconds()
                    + " s; see " + serialLog);
        }
        return up;
    }

    /** Waits until the guest ticks on after a migration, so the next one starts from a running guest. */
    static void awaitTicking(Path serialLog) throws IOException, InterruptedException {
        GuestConsole c = GuestConsole.await(serialLog, g -> g.lastTick() >= g.firstTick() + 3, RESUME_LIMIT);
        if (c.lastTick() < c.firstTick() + 3) {
            throw new IllegalStateException("the guest did not tick on within " + RESUME_LIMIT.toSeconds()
                    + " s after the migration; see " + serialLog);
        }
    }
}
