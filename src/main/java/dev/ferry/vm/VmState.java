package dev.ferry.vm;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Where a VM is in its life on one host. Transitions are explicit: {@link #checkTransition}
 * names the VM and both states when a caller asks for one that is not in the table.
 */
public enum VmState {
    /** Known to the host, no QEMU process. */
    DEFINED,
    /** QEMU is being launched and has not yet answered over QMP. */
    STARTING,
    /** QEMU runs and the guest's vCPUs run. */
    RUNNING,
    /** QEMU runs and the guest's vCPUs are stopped. */
    PAUSED,
    /** A shutdown has been asked for and QEMU has not exited yet. */
    STOPPING,
    /** QEMU exited after a stop; the definition stays. */
    STOPPED,
    /** QEMU died without being asked to. */
    CRASHED,
    /** A migration or save holds the VM; only the migration changes its state. */
    MIGRATING;

    private static final Map<VmState, Set<VmState>> ALLOWED = Map.of(
            DEFINED, EnumSet.of(STARTING, MIGRATING),
            STARTING, EnumSet.of(RUNNING, PAUSED, CRASHED, STOPPED, STOPPING),
            RUNNING, EnumSet.of(PAUSED, STOPPING, STOPPED, CRASHED, MIGRATING),
            PAUSED, EnumSet.of(RUNNING, STOPPING, STOPPED, CRASHED, MIGRATING),
            STOPPING, EnumSet.of(STOPPED, CRASHED),
            STOPPED, EnumSet.of(STARTING, DEFINED, MIGRATING),
            CRASHED, EnumSet.of(STARTING, STOPPED, DEFINED),
            MIGRATING, EnumSet.of(RUNNING, PAUSED, STOPPED, CRASHED, DEFINED));

    /** Whether a QEMU process is expected to exist in this state. */
    public boolean hasProcess() {
        return this == STARTING || this == RUNNING || this == PAUSED || this == STOPPING || this == MIGRATING;
    }

    public boolean canMoveTo(VmState next) {
        return ALLOWED.get(this).contains(next);
    }

    /** Returns {@code next}, or throws naming the VM and both states when the move is illegal. */
    public VmState checkTransition(String vmName, VmState next) {
        if (!canMoveTo(next)) {
            throw new IllegalVmTransitionException(vmName, this, next);
        }
        return next;
    }

    /** The lower-case name used in the API, the CLI and the state store. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static VmState fromWireName(String s) {
        try {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("Invalid VM state: " + s, e);
        }
    }
}
