package dev.ferry.migration;

import java.util.List;

/**
 * Where the VM goes: another host's agent (live) or a file (save). Every call is idempotent, so
 * the source can retry it after a lost answer.
 */
public interface Destination {

    /** Step 0 on the destination side: everything that would stop the VM from running there. */
    List<MigrationReport.Blocker> check() throws MigrationException;

    /**
     * Creates backends and the incoming QEMU; returns the URI the source's QEMU sends to and,
     * by device id, where devices with data of their own send it (a local disk's NBD export).
     */
    Prepared prepare() throws MigrationException;

    /** The destination's addresses: QEMU's stream, and per-device endpoints. */
    record Prepared(String uri, java.util.Map<String, String> endpoints) {
        public Prepared {
            endpoints = endpoints == null ? java.util.Map.of() : java.util.Map.copyOf(endpoints);
        }
    }

    /**
     * After QEMU finished: the destination records that it owns the VM, then resumes it.
     * Throws {@link NotTakenException} when the destination certainly did not take the VM.
     */
    Switchover switchover() throws MigrationException;

    /** Destroys the incoming VM and its backends; nothing of this migration stays. */
    void abort() throws MigrationException;

    /** What the destination did after it resumed the guest (device hooks' messages). */
    record Switchover(List<String> notes) {}

    /** The destination answered that it did not take the VM (its incoming QEMU failed, say). */
    final class NotTakenException extends MigrationException {
        public NotTakenException(String message) {
            super(message);
        }
    }
}
