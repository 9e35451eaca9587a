package dev.ferry.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How QEMU runs guests on a host: the agent configuration's {@code accel}. */
public enum Accelerator {
    /**
     * KVM when {@code /dev/kvm} can be opened for reading and writing and the CPU offers hardware
     * virtualization ({@code vmx} or {@code svm} in {@code /proc/cpuinfo}), TCG otherwise.
     */
    AUTO,
    /** Always KVM; QEMU refuses to start a VM where KVM is missing. */
    KVM,
    /**
     * Always TCG, QEMU's emulator: for a host whose {@code /dev/kvm} runs no ordinary guest, where
     * even {@link #AUTO}'s check is not enough.
     */
    TCG;

    private static final Logger log = LoggerFactory.getLogger(Accelerator.class);
    private static final Path DEV_KVM = Path.of("/dev/kvm");
    private static final Path CPUINFO = Path.of("/proc/cpuinfo");
    private static volatile Boolean hostKvm;

    /** Whether QEMU is to be started with KVM on this host. */
    boolean useKvm() {
        return switch (this) {
            case KVM -> true;
            case TCG -> false;
            case AUTO -> hostKvm();
        };
    }

    private static boolean hostKvm() {
        Boolean known = hostKvm;
        if (known == null) {
            known = kvmUsable(DEV_KVM, CPUINFO);
            hostKvm = known;
        }
        return known;
    }

    /**
     * Whether {@code dev} (a KVM device) can run ordinary guests here. A {@code /dev/kvm} on a CPU
     * without {@code vmx}/{@code svm} is a paravirtual KVM (a nested VM's, such as kvm-pvm), which
     * runs only guests built for it: a stock kernel hangs there without printing a line.
     */
    static boolean kvmUsable(Path dev, Path cpuinfo) {
        if (!Files.isReadable(dev) || !Files.isWritable(dev)) {
            return false;
        }
        if (!hardwareVirtualization(cpuinfo)) {
            log.warn("{} exists but the CPU offers no hardware virtualization (no vmx or svm in {}): using TCG;"
                    + " set 'accel: kvm' in the agent's config to use it anyway", dev, cpuinfo);
            return false;
        }
        return true;
    }

    private static boolean hardwareVirtualization(Path cpuinfo) {
        try {
            return Files.readAllLines(cpuinfo).stream()
                    .filter(line -> line.startsWith("flags"))
                    .flatMap(line -> Arrays.stream(line.substring(line.indexOf(':') + 1).trim().split("\\s+")))
                    .anyMatch(Set.of("vmx", "svm")::contains);
        } catch (IOException e) {
            return false;
        }
    }
}
