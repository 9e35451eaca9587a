package dev.ferry.agent;

import dev.ferry.agent.store.VmRecord;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmState;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the recorded state in line with the processes that really exist: once at start-up
 * (VMs outlive the agent, so a restarted agent takes control of them again) and then
 * periodically, for VMs whose QEMU exited on its own (a guest powering off, a crash).
 */
final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

    private final VmTable vms;
    private final VmHost vmHost;
    private final JobLeases leases;

    Reconciler(VmTable vms, VmHost vmHost, JobLeases leases) {
        this.vms = vms;
        this.vmHost = vmHost;
        this.leases = leases;
    }

    /** For every VM recorded with a process: reattach and refresh, or record that it is gone. */
    void atStart() {
        for (VmRecord vm : vms.store().listVms()) {
            if (vm.state().hasProcess()) {
                reattach(vm);
            }
        }
    }

    private void reattach(VmRecord vm) {
        String name = vm.name();
        Optional<VmHandle> found;
        try {
            found = vmHost.reattach(name);
        } catch (VmException e) {
            // Cannot tell whether it runs: keep the record as it is rather than call a live VM dead.
            log.error("vm '{}': cannot reattach, keeping its recorded state {}: {}", name, vm.state().wireName(), e.getMessage());
            return;
        }
        if (found.isPresent()) {
            VmHandle handle = found.get();
            vms.attach(handle);
            if (vm.state() != VmState.MIGRATING) {
                // A migrating VM's state is the migration's to settle, from its journal (SourceRecovery, DestinationRecovery).
                refresh(vm, handle);
            }
            log.info("vm '{}' reattached, pid {}, {}", name, handle.pid(), vms.record(name).state().wireName());
        } else {
            // A VM that was being stopped and is gone did what it was asked; any other one crashed
            // (a migrating one too: if its QEMU is gone here, it was not handed over through this host).
            VmState gone = vm.state() == VmState.STOPPING ? VmState.STOPPED : VmState.CRASHED;
            vms.move(name, gone);
            cleanUp(name);
            log.warn("vm '{}' was {} but its QEMU is gone; now {}", name, vm.state().wireName(), gone.wireName());
        }
    }

    private void refresh(VmRecord vm, VmHandle handle) {
        try {
            VmState actual = handle.state();
            if (actual != vm.state() && vm.state().canMoveTo(actual)) {
                vms.move(vm.name(), actual);
            } else if (actual != vm.state()) {
                log.warn("vm '{}': recorded {} but QEMU says {}; keeping {} until a stop or destroy",
                        vm.name(), vm.state().wireName(), actual.wireName(), vm.state().wireName());
            }
        } catch (VmException e) {
            log.warn("vm '{}': reattached but cannot read its state, keeping {}: {}", vm.name(), vm.state().wireName(), e.getMessage());
        }
    }

    /** Records VMs whose QEMU has exited since the last look. VMs in the middle of a job are left to that job. */
    void checkExited() {
        vms.handles().forEach((name, handle) -> {
            if (handle.isAlive()) {
                return;
            }
            try (JobLeases.Lease lease = leases.acquire(name, "exit check")) {
                if (vms.handle(name).orElse(null) != handle) {
                    return;
                }
                VmState now = exitState(handle);
                vms.detach(name);
                VmState recorded = vms.record(name).state();
                if (recorded.canMoveTo(now)) {
                    vms.move(name, now);
                }
                cleanUp(name);
                log.warn("vm '{}': QEMU exited on its own; now {}", name, vms.record(name).state().wireName());
            } catch (AgentException busy) {
                // A job holds the VM (or it was undefined); that job sees the exit itself.
            }
        });
    }

    private static VmState exitState(VmHandle handle) {
        try {
            VmState s = handle.state();
            return s == VmState.STOPPED ? VmState.STOPPED : VmState.CRASHED;
        } catch (VmException e) {
            return VmState.CRASHED;
        }
    }

    private void cleanUp(String name) {
        try {
            vmHost.cleanUp(name);
        } catch (VmException e) {
            log.warn("vm '{}': cleaning up what it left behind failed: {}", name, e.getMessage());
        }
    }
}
