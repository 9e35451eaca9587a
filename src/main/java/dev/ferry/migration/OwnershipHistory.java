package dev.ferry.migration;

import dev.ferry.migration.PeerProtocol.Ownership;

/** What this host's history says of an incoming migration it no longer holds in memory (after a restart). */
final class OwnershipHistory {
    private OwnershipHistory() {}

    /** From the history: a VM recorded here for this migration is owned (ownership is recorded before resume). */
    static Ownership recorded(MigrationStore store, HostVms vms, String migrationId) {
        var m = store.findMigration(migrationId);
        if (m.isEmpty() || m.get().role() != Role.DESTINATION) {
            return Ownership.UNKNOWN;
        }
        if (m.get().result() == Result.COMPLETED) {
            return Ownership.OWNED;
        }
        boolean here = vms.defined(m.get().vm());
        if (m.get().result() != null) {
            return m.get().result() == Result.FAILED && here && tookOwnership(store, migrationId)
                    ? Ownership.OWNED : Ownership.ABORTED;
        }
        return here ? Ownership.OWNED : Ownership.PREPARED;
    }

    private static boolean tookOwnership(MigrationStore store, String migrationId) {
        return store.journal(migrationId).stream()
                .anyMatch(e -> e.event() == JournalEvent.ENTER && e.phase() == Phase.SWITCHOVER);
    }
}
