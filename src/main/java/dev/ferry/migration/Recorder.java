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
 * refuses to go backwards, and builds the report at the end. What devices say is bounded, so a
 * report stays small whatever a tool prints: at most {@link #MAX_NOTES} notes of
 * {@link #MAX_TEXT_CHARS} characters each, {@link #MAX_NOTES_CHARS} in all, then one note of how
 * many more were dropped; a step's or a failure's message is cut at {@link #MAX_TEXT_CHARS}.
 */
final class Recorder {
    static final int MAX_NOTES = 100;
    static final int MAX_NOTES_CHARS = 32 * 1024;
    static final int MAX_TEXT_CHARS = 2000;

    private final MigrationPlan plan;
    private final Clock clock;
    private final Journal journal;
    private final MigrationListener listener;
    private final Instant startedAt;
    private final List<PhaseTiming> phases = new ArrayList<>();
    private final List<StepTiming> steps = Collections.synchronizedList(new ArrayList<>());
    private final List<Failure> recoveryFailures = Collections.synchronizedList(new ArrayList<>());
    private final List<String> notes = new ArrayList<>();
    private int notesChars;
    private long notesDropped;
    private Phase current;
    private Instant currentSince;
    private Instant pausedAt;
    private Instant resumedAt;
    private Long qemuDowntimeMs;
    private boolean guestPaused;
    private volatile RamProgress ram;

    Recorder(MigrationPlan plan, Clock clock, Journal journal, MigrationListener listener) {
        this(plan, clock, journal, listener, null, clock.instant());
    }

    /** A recorder that carries on a migration whose journal stopped at {@code from} (after a restart). */
    Recorder(MigrationPlan plan, Clock clock, Journal journal, MigrationListener listener, Phase from,
             Instant startedAt) {
        this.plan = plan;
        this.clock = clock;
        this.journal = journal;
        this.listener = listener;
        this.startedAt = startedAt;
        this.current = from;
        this.currentSince = clock.instant();
    }

    /** Journals CHECK with whether the guest runs now, which decides whether a rollback resumes it. */
    void enterCheck(boolean guestWasRunning) {
        guestPaused = !guestWasRunning;
        move(Phase.CHECK);
        journal.enterCheck(guestWasRunning);
        listener.phase(plan.id(), Phase.CHECK);
    }

    /** Journals {@code next}, then makes it current. */
    void enter(Phase next, String detail) {
        move(next);
        journal.enter(next, detail);
        listener.phase(plan.id(), next);
    }

    void enter(Phase next) {
        enter(next, "");
    }

    private void move(Phase next) {
        if (current != null) {
            current.checkTransition(plan.id(), plan.vmName(), next);
        }
        Instant now = clock.instant();
        closeCurrent(now);
        current = next;
        currentSince = now;
    }

    Phase current() {
        return current;
    }

    /** The phase a failure happened in: CHECK when nothing was entered yet. */
    Phase failedIn() {
        return current == null ? Phase.CHECK : current;
    }

    Instant now() {
        return clock.instant();
    }

    void step(StepTiming timing) {
        steps.add(new StepTiming(timing.device(), timing.type(), timing.step(), timing.startedAt(), timing.durationMs(),
                timing.outcome(), bounded(timing.message())));
    }

    void deviceJournal(String deviceId, JournalStep step, JournalEvent event, String detail) {
        journal.device(deviceId, step, event, detail);
    }

    void recoveryFailed(Failure failure) {
        recoveryFailures.add(bounded(failure));
    }

    boolean recoveryClean() {
        return recoveryFailures.isEmpty();
    }

    /** Adds a note unless the same one is there already or the notes are full (then it is counted). */
    void note(String note) {
        String text = bounded(note);
        synchronized (notes) {
            if (notes.contains(text)) {
                return;
            }
            if (notes.size() >= MAX_NOTES || notesChars + text.length() > MAX_NOTES_CHARS) {
                notesDropped++;
                return;
            }
            notes.add(text);
            notesChars += text.length();
        }
    }

    private List<String> notes() {
        synchronized (notes) {
            List<String> out = new ArrayList<>(notes);
            if (notesDropped > 0) {
                out.add(notesDropped + " more notes dropped");
            }
            return List.copyOf(out);
        }
    }

    /** {@code text} cut to {@link #MAX_TEXT_CHARS}, saying how much was cut. */
    static String bounded(String text) {
        if (text == null || text.length() <= MAX_TEXT_CHARS) {
            return text;
        }
        return text.substring(0, MAX_TEXT_CHARS) + "... (" + (text.length() - MAX_TEXT_CHARS) + " more characters)";
    }

    private static Failure bounded(Failure f) {
        return f == null ? null : new Failure(f.phase(), f.device(), f.step(), bounded(f.message()));
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
        move(result.finalPhase());
        journal.enter(result.finalPhase(), failure == null ? "" : bounded(failure.describe()));
        listener.phase(plan.id(), result.finalPhase());
        return report(result, blockers, failure, false);
    }

    /** Ends FAILED with the owner unknown: the destination never said whether it took the VM. */
    MigrationReport finishOwnerUnknown(Failure failure) {
        move(Phase.FAILED);
        journal.enterOwnerUnknown(bounded(failure.describe()));
        listener.phase(plan.id(), Phase.FAILED);
        return report(Result.FAILED, List.of(), failure, true);
    }

    /** Ends a migration a restarted agent settled; the journal says so with a RECOVERED entry. */
    MigrationReport recovered(Result result, Failure failure) {
        // A settlement, not a protocol step: the destination's answer may end a migration from any phase.
        closeCurrent(clock.instant());
        current = result.finalPhase();
        journal.recovered(result.finalPhase(), failure == null ? bounded(String.join("; ", notes())) : bounded(failure.describe()));
        listener.phase(plan.id(), result.finalPhase());
        return report(result, List.of(), failure, false);
    }

    private MigrationReport report(Result result, List<Blocker> blockers, Failure failure, boolean ownerUnknown) {
        Instant end = clock.instant();
        Long downtime = pausedAt != null && resumedAt != null ? Duration.between(pausedAt, resumedAt).toMillis() : null;
        return new MigrationReport(plan.id(), plan.vmName(), plan.sourceHost(), plan.destination(),
                plan.mode().wireName(), result, startedAt, Duration.between(startedAt, end).toMillis(),
                downtime, qemuDowntimeMs, List.copyOf(phases), List.copyOf(steps),
                blockers.stream().map(b -> new Blocker(b.side(), b.device(), bounded(b.reason()))).toList(),
                bounded(failure), List.copyOf(recoveryFailures), ram, notes(), ownerUnknown, guestPaused);
    }

    private void closeCurrent(Instant now) {
        if (current != null && !current.isFinal()) {
            phases.add(new PhaseTiming(current.wireName(), currentSince, Duration.between(currentSince, now).toMillis()));
        }
    }
}
