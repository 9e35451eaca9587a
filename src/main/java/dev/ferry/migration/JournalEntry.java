package dev.ferry.migration;

import java.time.Instant;
import java.util.Objects;

/**
 * One line of a migration's journal: written before the step it describes acts, so that a
 * restarted agent knows how far a migration got. Device, step and detail are null where they do
 * not apply. The facts recovery needs are fields, never prose in {@code detail}.
 *
 * @param guestWasRunning on the source's CHECK entry: whether a rollback resumes the guest; else null
 * @param ownerUnknown    on a final FAILED entry: the destination never said whether it took the VM
 */
public record JournalEntry(String migrationId, String vm, Role role, String peer, Phase phase, String device,
                           JournalStep step, JournalEvent event, Instant at, String detail, Boolean guestWasRunning,
                           boolean ownerUnknown) {

    public JournalEntry {
        Objects.requireNonNull(migrationId, "migrationId");
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(peer, "peer");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(at, "at");
        if ((device == null) != (step == null)) {
            throw new IllegalArgumentException("Invalid journal entry of migration " + migrationId
                    + ": a device step needs both device and step (device " + device + ", step " + step + ")");
        }
    }
}
