package dev.ferry.vm;

import java.nio.file.Path;

/**
 * The per-VM directory on this host ({@code RUN_ROOT/NAME}) holding everything needed to find a
 * running VM again: QEMU's pidfile, QMP socket and error log, the serial log, the spec it was started
 * with, and the swtpm's state, control socket, pidfile and log. Nothing else writes here; removing it is part of cleaning a VM up.
 */
public record RunDir(Path path) {

    public static RunDir of(Path runRoot, String vmName) {
        return new RunDir(runRoot.resolve(vmName));
    }

    /** The spec the VM was started with, so that {@code ferry agent repair} can record a running VM again. */
    public Path specFile() {
        return path.resolve("spec.yaml");
    }

    public Path qemuPidFile() {
        return path.resolve("qemu.pid");
    }

    public Path qmpSocket() {
        return path.resolve("qmp.sock");
    }

    /** Where QEMU's own error messages go once it has daemonized ({@code -D}): without it they are lost. */
    public Path qemuLog() {
        return path.resolve("qemu.log");
    }

    public Path serialLog() {
        return path.resolve("serial.log");
    }

    public Path swtpmStateDir() {
        return path.resolve("swtpm");
    }

    public Path swtpmSocket() {
        return path.resolve("swtpm.sock");
    }

    public Path swtpmPidFile() {
        return path.resolve("swtpm.pid");
    }

    public Path swtpmLog() {
        return path.resolve("swtpm.log");
    }
}
