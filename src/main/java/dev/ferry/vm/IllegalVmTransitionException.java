package dev.ferry.vm;

/** A lifecycle call that the VM's current state does not allow. */
public final class IllegalVmTransitionException extends IllegalStateException {
    private final String vmName;
    private final VmState from;
    private final VmState to;

    public IllegalVmTransitionException(String vmName, VmState from, VmState to) {
        super("vm '" + vmName + "': cannot go from " + from.wireName() + " to " + to.wireName());
        this.vmName = vmName;
        this.from = from;
        this.to = to;
    }

    public String vmName() { return vmName; }
    public VmState from() { return from; }
    public VmState to() { return to; }
}
