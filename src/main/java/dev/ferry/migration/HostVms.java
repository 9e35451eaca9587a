package dev.ferry.migration;

import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.util.List;
import java.util.Optional;

/**
 * Port: the VMs of this host as migrations see them (the agent's VM table and job leases). Every
 * state change is recorded durably before it is announced; failures are the agent's own
 * exceptions (not found, busy) and pass through migrations unchanged.
 */
public interface HostVms {

    /** A VM's exclusive job lease; closing it lets other jobs at the VM again. */
    interface Lease extends AutoCloseable {
        @Override
        void close();
    }

    /** Takes the VM's lease for {@code job}, or fails saying which job holds it. */
    Lease lease(String vm, String job);

    boolean defined(String vm);

    /** The VM's recorded spec, as it was normalized when defined (same uuid and MACs). */
    VmSpec spec(String vm);

    VmState state(String vm);

    /** The control of the VM's QEMU, when this agent holds it. */
    Optional<VmHandle> handle(String vm);

    /** Records a new state; the transition must be one the VM's lifecycle allows. */
    void move(String vm, VmState to);

    /** Records a VM that arrives on this host (MIGRATING) or is restored here (DEFINED). */
    void add(VmSpec spec, VmState state);

    /** Takes control of the VM's QEMU. */
    void attach(VmHandle handle);

    /** The VM left this host: lets go of its QEMU (if still held) and forgets its record. */
    void forget(String vm);

    /** Lets go of the VM's QEMU without stopping it. */
    void detach(String vm);

    /** Why this host cannot take {@code spec} now: a VM of that name here, not enough memory. */
    List<String> admissionBlockers(VmSpec spec);
}
