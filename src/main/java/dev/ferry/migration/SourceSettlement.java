package dev.ferry.migration;

import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the source records of its VM once a migration ended: gone, stopped, or as its QEMU shows it. */
final class SourceSettlement {
    private static final Logger log = LoggerFactory.getLogger(SourceMigrations.class);

    private final HostVms vms;

    SourceSettlement(HostVms vms) {
        this.vms = vms;
    }

    /** Records where the VM is after the migration, as the report says. */
    void settle(String vm, VmHandle handle, MigrationReport report, VmState onSuccess) {
        if (report.result() == Result.COMPLETED) {
            if (onSuccess == VmState.STOPPED) {
                vms.detach(vm);
                vms.move(vm, VmState.STOPPED);
            } else {
                vms.forget(vm);
            }
            return;
        }
        if (report.ownerUnknown()) {
            // Said as the QEMU shows it: a worker that died early may have left the guest running or gone.
            log.error("vm '{}': recorded as migrating until the destination says who owns it ({}); asking it again"
                    + " every few seconds", vm, describe(handle));
            return;
        }
        VmState now;
        try {
            now = handle.isAlive() ? handle.state() : VmState.CRASHED;
        } catch (VmException e) {
            // Alive but silent (stopped, or waiting on a stopped swtpm): not running as far as anyone can tell,
            // and not gone either; resumable once it answers again.
            now = handle.isAlive() ? VmState.PAUSED : VmState.CRASHED;
            log.warn("vm '{}': its QEMU (pid {}) does not answer after the migration ({}); recorded as {}{}", vm,
                    handle.pid(), e.getMessage(), now.wireName(), now == VmState.PAUSED
                            ? "; once it answers again, 'ferry vm resume " + vm + "' runs the guest" : "");
        }
        vms.move(vm, now == VmState.PAUSED ? VmState.PAUSED : now == VmState.RUNNING ? VmState.RUNNING : VmState.CRASHED);
    }

    private static String describe(VmHandle handle) {
        if (!handle.isAlive()) {
            return "its QEMU here is gone";
        }
        try {
            return "its QEMU here, pid " + handle.pid() + ", is " + handle.state().wireName();
        } catch (VmException e) {
            return "its QEMU here, pid " + handle.pid() + ", does not answer: " + e.getMessage();
        }
    }
}
