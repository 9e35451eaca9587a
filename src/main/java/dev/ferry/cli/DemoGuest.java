package dev.ferry.cli;

import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The demo's VM: the test guest's spec and its data disk, in the demo's directory. */
final class DemoGuest {
    static final String NAME = "demo";

    private final Path disk;
    private final boolean shared;
    private final String specYaml;

    private DemoGuest(Path disk, boolean shared, String specYaml) {
        this.disk = disk;
        this.shared = shared;
        this.specYaml = specYaml;
    }

    /** What the disk holds compared with what the guest was told was written. */
    record DiskCheck(long highestContiguous, long lost, boolean clean) {}

    /**
     * @param shared whether the data disk is shared storage (both agents see it; nothing is copied)
     *               or local to the first agent (the second makes its own copy during the migration)
     */
    static DemoGuest create(Path root, GuestArtifacts kit, ProcessRunner runner, boolean shared)
            throws IOException, InterruptedException {
        Path disk = root.resolve("demo-data.qcow2");
        ProcResult made = runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), "64M"));
        if (!made.ok()) {
            throw new IOException("cannot create the demo's data disk: " + made.describe());
        }
        String spec = """
                name: %s
                memoryMiB: 256
                vcpus: 1
                kernel: "%s"
                initrd: "%s"
                cmdline: "%s"
                devices:
                  - {type: disk, id: data0, path: "%s", format: qcow2, shared: %s}
                  - {type: nic, id: net0, backend: user}
                  - {type: tpm, id: tpm0, model: tpm-tis, backend: swtpm}
                """.formatted(NAME, kit.kernel(), kit.initramfs(), kit.kernelCmdline(), disk, shared);
        return new DemoGuest(disk, shared, spec);
    }

    String specYaml() {
        return specYaml;
    }

    /** Verifies the disk the guest last wrote to: the shared image, or the destination's copy. */
    DiskCheck checkDisk(ProcessRunner runner, Path destinationImages, long lastAcknowledged)
            throws IOException, InterruptedException {
        Path image = shared ? disk : destinationImages.resolve(NAME).resolve("data0.qcow2");
        DiskReport r = DiskVerifier.verify(image, runner);
        return new DiskCheck(r.highestContiguous(), Math.max(0, lastAcknowledged - r.highestContiguous()), r.clean());
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
