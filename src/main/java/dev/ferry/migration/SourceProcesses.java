package dev.ferry.migration;

import dev.ferry.proc.Processes;
import dev.ferry.vm.RunDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The processes behind a source VM (its QEMU and, when it has one, its swtpm), so that a QEMU
 * that stops answering is reported with its pid and, when the kernel says so, the process that is
 * stopped: QEMU waits without a timeout on its swtpm while it saves the TPM's state.
 *
 * @param qemuPid the source QEMU's pid, 0 when unknown
 * @param runDir  the VM's run directory on this host, null when unknown
 */
record SourceProcesses(long qemuPid, Path runDir) {

    static final SourceProcesses UNKNOWN = new SourceProcesses(0, null);

    /** "the source's QEMU (pid N)", with what the kernel says about it and its swtpm. */
    String describeHung() {
        StringBuilder s = new StringBuilder("the source's QEMU");
        if (qemuPid > 0) {
            s.append(" (pid ").append(qemuPid).append(')');
            if (Processes.isStopped(qemuPid)) {
                s.append(" is stopped (SIGSTOP); continue it with 'kill -CONT ").append(qemuPid).append('\'');
                return s.toString();
            }
        }
        OptionalLong swtpm = swtpmPid();
        if (swtpm.isPresent() && Processes.isStopped(swtpm.getAsLong())) {
            s.append(" waits on its swtpm (pid ").append(swtpm.getAsLong()).append("), which is stopped (SIGSTOP);"
                    + " continue it with 'kill -CONT ").append(swtpm.getAsLong()).append('\'');
            return s.toString();
        }
        return s.append(" is hung").toString();
    }

    /** Whether the kernel shows why QEMU is silent: it, or the swtpm it waits on, is stopped. */
    boolean stoppedProcessFound() {
        if (qemuPid > 0 && Processes.isStopped(qemuPid)) {
            return true;
        }
        OptionalLong swtpm = swtpmPid();
        return swtpm.isPresent() && Processes.isStopped(swtpm.getAsLong());
    }

    private OptionalLong swtpmPid() {
        if (runDir == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(Files.readString(new RunDir(runDir).swtpmPidFile()).trim()));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
