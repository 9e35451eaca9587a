package dev.ferry.migration;

import java.time.Clock;

/**
 * The journal of one migration on this host: typed entries appended to the {@link MigrationStore}
 * before the step they name acts, so that a restarted agent knows where the migration stood.
 */
public final class Journal {
    private final MigrationStore store;
    private final String migrationId;
    private final String vm;
    private final Role role;
    private final String peer;
    private final Clock clock;
    private volatile Phase phase = Phase.CHECK;

    public Journal(MigrationStore store, String migrationId, String vm, Role role, String peer, Clock clock) {
        this.store = store;
        this.migrationId = migrationId;
        this.vm = vm;
        this.role = role;
        this.peer = peer;
        this.clock = clock;
    }

    /** A journal that keeps nothing: dry runs, and tests that do not look at it. */
    public static Journal discarding(String migrationId, String vm, Clock clock) {
        return new Journal(null, migrationId, vm, Role.SOURCE, "-", clock);
    }

    /** The source's CHECK: records whether the guest ran, so a rollback (even after a restart) knows whether to resume it. */
    public void enterCheck(boolean guestWasRunning) {
        append(Phase.CHECK, null, null, JournalEvent.ENTER, guestWasRunning ? "guest was running" : "guest was paused",
                guestWasRunning, false);
    }

    public void enter(Phase next, String detail) {
        append(next, null, null, JournalEvent.ENTER, detail, null, false);
    }

    /** The destination's PREPARE: records whether the guest ran on the source, so it is resumed here only then. */
    public void enterPrepare(boolean guestWasRunning, String detail) {
        append(Phase.PREPARE, null, null, JournalEvent.ENTER, detail, guestWasRunning, false);
    }

    /** A final FAILED whose destination never said whether it took the VM. */
    public void enterOwnerUnknown(String detail) {
        append(Phase.FAILED, null, null, JournalEvent.ENTER, detail, null, true);
    }

    /** The migration was settled by a restarted agent; {@code end} is its final phase. */
    public void recovered(Phase end, String detail) {
        append(end, null, null, JournalEvent.RECOVERED, detail, null, false);
    }

    public void device(String deviceId, JournalStep step, JournalEvent event, String detail) {
        append(phase, deviceId, step, event, detail, null, false);
    }

    private void append(Phase at, String device, JournalStep step, JournalEvent event, String detail,
                        Boolean guestWasRunning, boolean ownerUnknown) {
        if (event == JournalEvent.ENTER || event == JournalEvent.RECOVERED) {
            phase = at;
        }
        if (store == null) {
            return;
        }
        store.appendJournal(new JournalEntry(migrationId, vm, role, peer, at, device, step, event, clock.instant(),
                detail == null || detail.isEmpty() ? null : detail, guestWasRunning, ownerUnknown));
    }
}
