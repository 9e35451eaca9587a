package dev.ferry.vm;

import java.time.Duration;
import java.util.Optional;

/**
 * Runs VMs on this host. QEMU is started detached, so a VM outlives whoever started it; its run
 * directory holds what is needed to take control of it again later ({@link #reattach}).
 */
public interface VmHost {

    /** Starts QEMU (and the VM's swtpm, if it has one) for {@code spec}; returns once QMP answers. */
    VmHandle start(VmSpec spec) throws VmException;

    /**
     * Starts QEMU for {@code spec} waiting for a migration stream ({@code -incoming defer}) instead
     * of booting; its devices' back-ends (swtpm) are started as for {@link #start}.
     */
    default VmHandle startIncoming(VmSpec spec) throws VmException {
        throw new VmException("vm '" + spec.name() + "': this host cannot receive migrations");
    }

    /** Takes control of a VM started earlier on this host, or empty when none of it is alive. */
    Optional<VmHandle> reattach(String vmName) throws VmException;

    /** Removes what a VM that no longer runs left behind: sockets, pidfiles, stray swtpm. */
    void cleanUp(String vmName) throws VmException;

    /** Default time a guest gets to power off before QEMU is told to quit. */
    Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);
}
