package dev.ferry.agent;

import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmSpec;
import java.util.Optional;

/**
 * Stands in for the QEMU runtime in builds that do not have it yet: VMs can be defined and shown,
 * starting one fails with a message that says so. Reattach fails too (rather than reporting the
 * VM gone), so a restart of such a build never marks a running VM crashed.
 */
final class UnwiredVmHost implements VmHost {
    private static final String WHY = "this ferry build has no QEMU runtime wired in; use a build that includes it";

    @Override
    public VmHandle start(VmSpec spec) throws VmException {
        throw new VmException("vm '" + spec.name() + "': cannot start: " + WHY);
    }

    @Override
    public Optional<VmHandle> reattach(String vmName) throws VmException {
        throw new VmException("vm '" + vmName + "': cannot reattach: " + WHY);
    }

    @Override
    public void cleanUp(String vmName) {
        // Nothing was ever started by this host, so nothing is left behind.
    }
}
