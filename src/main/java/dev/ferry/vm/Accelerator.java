package dev.ferry.vm;

import java.nio.file.Files;
import java.nio.file.Path;

/** How QEMU runs guests on a host: the agent configuration's {@code accel}. */
public enum Accelerator {
    /** KVM when {@code /dev/kvm} can be opened for reading and writing, TCG otherwise. */
    AUTO,
    /** Always KVM; QEMU refuses to start a VM where KVM is missing. */
    KVM,
    /**
     * Always TCG, QEMU's emulator: for a host whose {@code /dev/kvm} exists but does not run guests
     * (some nested virtual machines), where {@link #AUTO} would pick KVM and the guest never boot.
     */
    TCG;

    /** Whether QEMU is to be started with KVM on this host. */
    boolean useKvm() {
        return switch (this) {
            case KVM -> true;
            case TCG -> false;
            case AUTO -> Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
        };
    }
}
