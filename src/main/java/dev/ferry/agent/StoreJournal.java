package dev.ferry.agent;

import dev.ferry.migration.Journal;
import dev.ferry.migration.Phase;
import java.time.Clock;

/** The migration journal of one migration on this host, in the state database. */
final class StoreJournal implements Journal {
    private final StateStore store;
    private final String vm;
    private final JournalEntry.Role role;
    private final String peer;
    private final Clock clock;
    private volatile String phase = Phase.CHECK.wireName();

    StoreJournal(StateStore store, String vm, JournalEntry.Role role, String peer, Clock clock) {
        this.store = store;
        this.vm = vm;
        this.role = role;
        this.peer = peer;
        this.clock = clock;
    }

    @Override
    public void phase(String migrationId, Phase next, String detail) {
        phase = next.wireName();
        store.appendJournal(new JournalEntry(migrationId, vm, role, peer, phase, null, null, "enter", clock.instant(),
                detail == null || detail.isEmpty() ? null : detail));
    }

    @Override
    public void deviceStep(String migrationId, String deviceId, String step, String event, String detail) {
        store.appendJournal(new JournalEntry(migrationId, vm, role, peer, phase, deviceId, step, event, clock.instant(),
                detail == null || detail.isEmpty() ? null : detail));
    }
}
