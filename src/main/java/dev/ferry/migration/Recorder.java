package dev.ferry.migration;

import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.MigrationReport.Failure;
import dev.ferry.migration.MigrationReport.PhaseTiming;
import dev.ferry.migration.MigrationReport.StepTiming;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Keeps one migration's timeline: writes each phase to the journal before the phase acts,
 * refuses to go backwards, and builds the report at the end.
 */
final class Recorder {
    private final MigrationPlan plan;
    private final Clock clock;
    private final Journal journal;
    private final MigrationListener listener;
    private final Instant startedAt;
    private final List<PhaseTiming> phases = new ArrayList<>();
    private final List<StepTiming> steps = Collections.synchronizedList(new ArrayList<>());
    private final List<Failure> recoveryFailures = Collections.synchronizedList(new ArrayList<>());
    private final List<String> notes = Collections.synchronizedList(new ArrayList<>());
    private Phase current;
    private Instant currentSince;
    private Instant pausedAt;
    private Instant resumedAt;
    private Long qemuDowntimeMs;
    private volatile RamProgress ram;

    Recorder(MigrationPlan plan, Clock clock, Journal journal, MigrationListener listener) {
        this.plan = plan;
        this.clock = clock;
        this.journal = journal;
        this.listener = listener;
        this.startedAt = clock.instant();
    }

    /** Journals {@code next}, then makes it current. */
    void enter(Phase next, String detail) {
        if (current != null && !current.canFollow(next)) {
            throw new IllegalStateException("migration " + plan.id() + " of vm '" + plan.vmName()
                    + "': protocol going backwards " + current.wireName() + " => " + next.wireName());
        }
        journal.phase(plan.id(), next, detail);
        Instant now = clock.instant();
        closeCurrent(now);
        current = next;
        currentSince = now;
        listener.phase(plan.id(), next);
    }

    void enter(Phase next) {
        enter(next, "");
    }

    Phase current() {
        return current;
    }

    Instant now() {
        return clock.instant();
    }

    void step(StepTiming timing) {
        steps.add(timing);
    }

    void deviceJournal(String deviceId, String step, String event, String detail) {
        journal.deviceStep(plan.id(), deviceId, step, event, detail);
    }

    void recoveryFailed(Failure failure) {
        recoveryFailures.add(failure);
    }

    boolean recoveryClean() {
        return recoveryFailures.isEmpty();
    }

    void note(String note) {
        notes.add(note);
    }

    /** The guest was paused at {@code at} (QEMU's STOP event); downtime runs from there. */
    void paused(Instant at) {
        pausedAt = at == null ? clock.instant() : at;
    }

    void resumed() {
        resumedAt = clock.instant();
    }

    void qemuDowntime(Long ms) {
        qemuDowntimeMs = ms;
    }

    void ram(RamProgress progress) {
        ram = progress;
        listener.ram(plan.id(), progress);
    }

    MigrationListener listener() {
        return listener;
    }

    MigrationReport finish(Result result, List<Blocker> blockers, Failure failure) {
        enter(result.finalPhase(), failure == null ? "" : failure.describe());
        Instant end = clock.instant();
        Long downtime = pausedAt != null && resumedAt != null ? Duration.between(pausedAt, resumedAt).toMillis() : null;
        return new MigrationReport(plan.id(), plan.vmName(), plan.sourceHost(), plan.destination(),
                plan.mode().wireName(), result, startedAt, Duration.between(startedAt, end).toMillis(),
                downtime, qemuDowntimeMs, List.copyOf(phases), List.copyOf(steps), List.copyOf(blockers),
                failure, List.copyOf(recoveryFailures), ram, List.copyOf(notes));
    }

    private void closeCurrent(Instant now) {
        if (current != null && !current.isFinal()) {
            phases.add(new PhaseTiming(current.wireName(), currentSince, Duration.between(currentSince, now).toMillis()));
        }
    }
}
