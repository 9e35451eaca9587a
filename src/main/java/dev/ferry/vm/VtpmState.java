package dev.ferry.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether a VM's vTPM state reached this host's disk. An incoming swtpm takes the state QEMU hands
 * it at the end of a migration and writes it to its state directory; on a full file system that
 * write fails, yet swtpm answers QEMU as if it had worked, and the migration completes with the
 * state only in swtpm's memory. The next migration or restart of that VM then finds no state (QEMU:
 * "Setting the stateblob ... failed"), and the guest's TPM is lost. So a host takes a VM only once
 * the file is there.
 */
public final class VtpmState {
    /** The file swtpm keeps a TPM 2.0's permanent state in, under its state directory. */
    static final String PERMANENT_STATE = "tpm2-00.permall";

    private VtpmState() {}

    /** What is missing when {@code spec} has a swtpm whose state is not on disk in {@code run}; empty otherwise. */
    public static Optional<String> notOnDisk(VmSpec spec, RunDir run) {
        boolean swtpm = spec.devices(DeviceSpec.Tpm.class).stream()
                .anyMatch(tpm -> tpm.backend() instanceof DeviceSpec.Swtpm);
        if (!swtpm) {
            return Optional.empty();
        }
        Path file = run.swtpmStateDir().resolve(PERMANENT_STATE);
        try {
            if (Files.size(file) > 0) {
                return Optional.empty();
            }
        } catch (IOException e) {
            // Missing: said below.
        }
        String room;
        try {
            room = Files.getFileStore(run.swtpmStateDir()).getUsableSpace() + " bytes free";
        } catch (IOException e) {
            room = "free space unknown: " + e.getMessage();
        }
        return Optional.of("the vTPM's state did not reach this host's disk: swtpm wrote no " + file
                + " (its file system has " + room + "); taking the VM would lose the TPM's state, so the source keeps it");
    }
}
