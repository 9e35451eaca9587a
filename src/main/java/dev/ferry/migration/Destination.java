package dev.ferry.migration;

import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import java.util.List;

/**
 * Where the VM goes: another host's agent (live, {@link PeerClient}) or a file (save,
 * {@link FileDestination}). Every call is idempotent, so the source can retry it after a lost answer.
 */
public interface Destination {

    /** Step 0 on the destination side: everything that would stop the VM from running there. */
    List<MigrationReport.Blocker> check() throws MigrationException;

    /**
     * Creates backends and the incoming QEMU; returns the URI the source's QEMU sends to and,
     * by device id, where devices with data of their own send it (a local disk's NBD export).
     */
    Prepared prepare() throws MigrationException;

    /**
     * After QEMU finished: the destination records that it owns the VM, then resumes it (unless
     * the guest was paused before the migration). Throws {@link NotTakenException} when the
     * destination certainly did not take the VM.
     */
    Switchover switchover() throws MigrationException;

    /** Destroys the incoming VM and its backends; nothing of this migration stays. */
    void abort() throws MigrationException;

    /** The destination answered that it did not take the VM (its incoming QEMU failed, say). */
    final class NotTakenException extends MigrationException {
        public NotTakenException(String message) {
            super(message);
        }
    }
}
