package dev.ferry.lab;

import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The test guest (kernel and busybox initramfs, built once and cached for the user) and the specs
 * the integration tests boot it with: a qcow2 data disk it writes numbered records to, a
 * user-mode NIC, optionally a swtpm vTPM, plus whatever devices a test adds.
 */
public final class TestGuest {
    public static final Duration BOOT = Duration.ofSeconds(120);
    private static GuestArtifacts artifacts;

    private final String name;
    private Path disk;
    private boolean sharedDisk = true;
    private String diskFormat = "qcow2";
    private boolean tpm = true;
    private final List<String> extra = new ArrayList<>();

    private TestGuest(String name) {
        this.name = name;
    }

    /** The guest's kernel and initramfs, built on first use (cached under the user's cache directory). */
    public static synchronized GuestArtifacts artifacts() throws Exception {
        if (artifacts == null) {
            artifacts = GuestKit.inUserCache(new ProcessRunner()).build();
        }
        return artifacts;
    }

    /** A fresh 64 MiB qcow2 image at {@code path}. */
    public static Path createDisk(Path path) throws IOException, InterruptedException {
        ProcResult made = new ProcessRunner().run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", path.toString(), "64M"));
        if (!made.ok()) {
            throw new IOException("cannot create the data disk " + path + ": " + made.describe());
        }
        return path;
    }

    /** A spec for VM {@code name}: shared data disk, user NIC and swtpm vTPM unless told otherwise. */
    public static TestGuest named(String name) {
        return new TestGuest(name);
    }

    public TestGuest disk(Path image) {
        this.disk = image;
        return this;
    }

    /** The data disk image's format ({@code qcow2} unless told otherwise). */
    public TestGuest diskFormat(String format) {
        this.diskFormat = format;
        return this;
    }

    /** The data disk is local to the host: a migration copies it. */
    public TestGuest localDisk() {
        this.sharedDisk = false;
        return this;
    }

    public TestGuest withoutTpm() {
        this.tpm = false;
        return this;
    }

    /** An {@code external} device whose migration tool is the agents' tool for {@code kind}. */
    public TestGuest external(String id, String kind) {
        return device("{type: external, id: " + id + ", kind: " + kind + "}");
    }

    /** Any other device, as one YAML flow mapping. */
    public TestGuest device(String flowYaml) {
        extra.add(flowYaml);
        return this;
    }

    public String yaml() throws Exception {
        if (disk == null) {
            throw new IllegalStateException("vm '" + name + "': the test guest needs a data disk; call disk(path)");
        }
        GuestArtifacts kit = artifacts();
        StringBuilder yaml = new StringBuilder("""
                name: %s
                memoryMiB: 256
                vcpus: 1
                kernel: "%s"
                initrd: "%s"
                cmdline: "%s"
                devices:
                  - {type: disk, id: data0, path: "%s", format: %s, shared: %s}
                  - {type: nic, id: net0, backend: user}
                """.formatted(name, kit.kernel(), kit.initramfs(), kit.kernelCmdline(), disk, diskFormat, sharedDisk));
        if (tpm) {
            yaml.append("  - {type: tpm, id: tpm0, backend: swtpm}\n");
        }
        extra.forEach(d -> yaml.append("  - ").append(d).append('\n'));
        return yaml.toString();
    }

    /**
     * Waits until the guest booted: its eight PCRs printed (when {@code withTpm}) and at least
     * {@code records} disk records written; fails naming the log otherwise.
     */
    public static GuestConsole awaitBooted(Path serialLog, boolean withTpm, long records) throws IOException, InterruptedException {
        GuestConsole up = GuestConsole.await(serialLog, c -> (!withTpm || c.pcrs().size() == 8) && c.lastWrote() >= records, BOOT);
        if ((withTpm && up.pcrs().size() != 8) || up.lastWrote() < records) {
            throw new IllegalStateException("the test guest did not come up within " + BOOT.toSeconds() + " s; see "
                    + serialLog + ":\n" + String.join("\n", up.lines()));
        }
        return up;
    }
}
