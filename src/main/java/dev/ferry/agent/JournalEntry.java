package dev.ferry.agent;

import java.time.Instant;
import java.util.Objects;

/**
 * One line of the migration journal: written before the step it describes acts, so a restarted
 * agent knows how far a migration got. Device, step and detail are null where they do not apply.
 */
public record JournalEntry(String migrationId, String vm, Role role, String peer, String phase,
                           String device, String step, String event, Instant at, String detail) {

    /** Which side of the migration this agent plays. */
    public enum Role { SOURCE, DESTINATION }

    public JournalEntry {
        Objects.requireNonNull(migrationId, "migrationId");
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(peer, "peer");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(at, "at");
    }
}
