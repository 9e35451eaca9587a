package dev.ferry.migration;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.Mode;
import dev.ferry.device.QmpGuestControl;
import dev.ferry.device.Step;
import dev.ferry.migration.MigrationReport.Failure;
import dev.ferry.migration.PeerProtocol.Ownership;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles the migrations this host drove as their source and that did not end: after a restart,
 * and for a live migration whose destination never answered the switchover. One branch per
 * where the journal says it stood; nothing is guessed:
 *
 * <ul>
 *   <li>the VM is no longer here: it had left; the migration completed;</li>
 *   <li>a save, or a migration still at CHECK: nothing reached another host; roll back here;</li>
 *   <li>otherwise ask the destination whether it took the VM: owned there, quit the copy here
 *       (keeping its serial log) and forget the VM; not taken, run the {@link Rollback} with what
 *       the journal shows started; no answer, change nothing and ask again every few seconds.</li>
 * </ul>
 */
public final class SourceRecovery {
    private static final Logger log = LoggerFactory.getLogger(SourceRecovery.class);
    private static final Duration RETRY = Duration.ofSeconds(5);

    private final String host;
    private final HostVms vms;
    private final MigrationStore store;
    private final Peers peers;
    private final DeviceControllers devices;
    private final Path keptLogs;
    private final Clock clock;
    private final ObjectMapper json;
    private final ScheduledExecutorService retries;
    private final ExecutorService steps;

    public SourceRecovery(String host, HostVms vms, MigrationStore store, Peers peers,
                          DeviceControllers devices, Path keptLogs, Clock clock, ObjectMapper json,
                          ScheduledExecutorService retries, ExecutorService steps) {
        this.host = host;
        this.vms = vms;
        this.store = store;
        this.peers = peers;
        this.devices = devices;
        this.keptLogs = keptLogs;
        this.clock = clock;
        this.json = json;
        this.retries = retries;
        this.steps = steps;
    }

    /** Settles every source migration the history shows unfinished, or left with its owner unknown. */
    public void recoverAtStart() {
        for (MigrationRecord m : store.listMigrations()) {
            if (m.role() == Role.SOURCE && (m.result() == null || ownerUnknown(m))) {
                attempt(m);
            }
        }
    }

    /** Keeps asking the destination of {@code m} until it answers, then settles the migration. */
    void settleLater(MigrationRecord m) {
        retries.schedule(() -> attempt(m), RETRY.toSeconds(), TimeUnit.SECONDS);
    }

    private boolean ownerUnknown(MigrationRecord m) {
        List<JournalEntry> journal = store.journal(m.id());
        return !journal.isEmpty() && journal.get(journal.size() - 1).ownerUnknown();
    }

    private void attempt(MigrationRecord m) {
        try (HostVms.Lease lease = vms.lease(m.vm(), "recovery of migration " + m.id())) {
            if (!settle(m)) {
                settleLater(m);
            }
        } catch (RuntimeException e) {
            log.error("migration {}: recovery failed, trying again in {} s", m.id(), RETRY.toSeconds(), e);
            settleLater(m);
        }
    }

    /** Returns false when it cannot decide yet (the destination does not answer). */
    private boolean settle(MigrationRecord m) {
        List<JournalEntry> journal = store.journal(m.id());
        Phase last = journal.stream().filter(e -> e.event() == JournalEvent.ENTER).reduce((a, b) -> b)
                .map(JournalEntry::phase).orElse(Phase.CHECK);
        // Empty when the agent stopped before CHECK was journaled: then nothing touched the guest yet.
        Optional<Boolean> checkSaidRunning = journal.stream().filter(e -> e.guestWasRunning() != null).findFirst()
                .map(JournalEntry::guestWasRunning);
        if (!vms.defined(m.vm())) {
            end(m, settlement(m, Phase.CHECK, plan(m, Optional.empty())).recovered(Result.COMPLETED, null));
            return true;
        }
        JournalEntry lastEntry = journal.isEmpty() ? null : journal.get(journal.size() - 1);
        if (last.isFinal() && lastEntry != null && !lastEntry.ownerUnknown()) {
            endedBefore(m, last, journal);
            return true;
        }
        if (m.mode() == Mode.SAVE || last == Phase.CHECK) {
            // Nothing reached another host: a save's partial file is not the VM, CHECK touched nothing.
            return rollBack(m, journal, last, checkSaidRunning, null);
        }
        PeerClient peer = peers.client(m.peer(), new PeerProtocol.Request(PeerProtocol.VERSION, m.id(), host, "",
                Mode.LIVE.wireName(), Map.of(), Map.of(), checkSaidRunning.orElse(true)), Duration.ZERO);
        Ownership ownership;
        try {
            ownership = peer.ownership();
        } catch (MigrationException e) {
            log.warn("migration {} of vm '{}': cannot ask {} who owns the VM ({}); the VM stays as it is and I ask again",
                    m.id(), m.vm(), m.peer(), e.getMessage());
            return false;
        }
        if (ownership == Ownership.OWNED) {
            leave(m, last);
            return true;
        }
        // "Not taken yet" is no promise: only the abort the destination confirms settles the migration.
        return rollBack(m, journal, last, checkSaidRunning, peer);
    }

    /**
     * The journal shows the migration ended (its final phase is written) but the agent stopped
     * before the history got the result: record that result and where the VM is now, undoing
     * nothing again. Rolling back a migration that had ended would move the VM to the state it is
     * already in, which its lifecycle refuses, and the migration would never settle.
     */
    private void endedBefore(MigrationRecord m, Phase last, List<JournalEntry> journal) {
        Result result = Result.ofFinalPhase(last);
        if (result == Result.COMPLETED) {
            leave(m, last);
            return;
        }
        VmState now = vms.handle(m.vm()).filter(VmHandle::isAlive).map(SourceRecovery::stateOf).orElse(VmState.CRASHED);
        if (vms.state(m.vm()) != now) {
            vms.move(m.vm(), now);
        }
        String detail = journal.get(journal.size() - 1).detail();
        Recorder rec = settlement(m, last, plan(m, Optional.empty()));
        rec.note("the migration had ended " + result.wireName() + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")")
                + " when the source agent stopped, before it kept the report; the VM is " + now.name().toLowerCase(Locale.ROOT));
        end(m, rec.recovered(result, null));
    }

    /** Running or paused as QEMU says, crashed when it cannot say. */
    private static VmState stateOf(VmHandle handle) {
        try {
            VmState s = handle.state();
            return s == VmState.RUNNING || s == VmState.PAUSED ? s : VmState.CRASHED;
        } catch (VmException e) {
            return VmState.CRASHED;
        }
    }

    /** The destination owns the VM: quit the copy here, keep its serial log, forget it. */
    private void leave(MigrationRecord m, Phase last) {
        Optional<VmHandle> handle = vms.handle(m.vm());
        Recorder rec = settlement(m, last, plan(m, Optional.empty()));
        if (handle.isPresent()) {
            try {
                SourceMigrations.release(handle.get(), SourceMigrations.keptSerialLog(keptLogs, m.vm(), m.id()));
            } catch (MigrationException e) {
                rec.note("cannot quit the source copy: " + e.getMessage());
            }
        }
        vms.forget(m.vm());
        rec.note("the destination had taken the VM; the source cleaned up after its restart");
        end(m, rec.recovered(Result.COMPLETED, null));
    }

    /**
     * The destination did not take the VM: undo what the journal says was started, resume if it ran.
     * Returns false when the destination did not confirm the abort: then the migration stays
     * unsettled (owner unknown) and is tried again.
     */
    private boolean rollBack(MigrationRecord m, List<JournalEntry> journal, Phase last,
                             Optional<Boolean> checkSaidRunning, PeerClient peer) {
        Optional<VmHandle> handle = vms.handle(m.vm()).filter(VmHandle::isAlive);
        MigrationPlan plan = plan(m, handle);
        Recorder rec = settlement(m, last, plan);
        Failure why = new Failure(last.wireName(), null, null, "the source agent restarted during " + last.wireName());
        if (handle.isEmpty()) {
            if (peer != null) {
                abortQuietly(rec, peer);
            }
            vms.move(m.vm(), VmState.CRASHED);
            end(m, rec.recovered(Result.FAILED, new Failure(last.wireName(), null, null,
                    "the source's QEMU was gone after the restart")));
            return true;
        }
        // Without a CHECK entry the guest is as it was before the migration, so QEMU says whether it ran.
        boolean wasRunning = checkSaidRunning.orElseGet(() -> runsNow(handle.get()));
        DeviceSteps started = new DeviceSteps(plan, rec, steps, () -> false);
        started.startedBefore(lastGoodSteps(journal));
        started.recoveredBefore(recoveredBefore(journal));
        QmpSourceQemu qemu = new QmpSourceQemu(m.vm(), handle.get().qmp(), clock, () -> {});
        boolean switchoverAsked = journal.stream()
                .anyMatch(e -> e.event() == JournalEvent.ENTER && e.phase() == Phase.SWITCHOVER);
        Rollback.Touched touched = new Rollback.Touched(wasRunning, peer != null, true, switchoverAsked);
        Rollback.Outcome done = Rollback.run(rec, started, qemu, peer, touched, why.describe());
        if (!done.destinationSettled()) {
            // Not ended: the history row keeps no result, so a restart settles it too.
            new Journal(store, m.id(), m.vm(), Role.SOURCE, m.peer(), clock).enterOwnerUnknown(
                    "the destination did not confirm the abort; asking it again");
            log.warn("migration {} of vm '{}': {} did not confirm the abort; the VM stays as it is and I ask again",
                    m.id(), m.vm(), m.peer());
            return false;
        }
        Result result = done.result();
        vms.move(m.vm(), wasRunning && result == Result.ROLLED_BACK ? VmState.RUNNING : VmState.PAUSED);
        end(m, rec.recovered(result, result == Result.ROLLED_BACK ? null : why));
        return true;
    }

    private static boolean runsNow(VmHandle handle) {
        try {
            return handle.state() == VmState.RUNNING;
        } catch (VmException e) {
            return false;
        }
    }

    private static void abortQuietly(Recorder rec, PeerClient peer) {
        try {
            peer.abort();
        } catch (MigrationException e) {
            rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), null, "abort", e.getMessage()));
        }
    }

    /**
     * Every device the journal shows started (in the order they started), with the last step it
     * completed; a device whose recovery the journal shows completed (a rollback that ran before
     * the restart) is not recovered again.
     */
    static Map<String, Step> lastGoodSteps(List<JournalEntry> journal) {
        Map<String, Step> lastGood = new LinkedHashMap<>();
        for (JournalEntry e : journal) {
            if (e.step() == JournalStep.RECOVER && e.event() == JournalEvent.OK) {
                lastGood.remove(e.device());
                continue;
            }
            if (e.step() == null || e.step().deviceStep() == null || e.step() == JournalStep.CHECK) {
                continue;
            }
            Step step = e.step().deviceStep();
            lastGood.putIfAbsent(e.device(), Step.CHECK);
            if (e.event() == JournalEvent.OK && step.isAfter(lastGood.get(e.device()))) {
                lastGood.put(e.device(), step);
            }
        }
        return lastGood;
    }

    /** The devices whose recovery the journal shows completed: a rollback before the restart undid them. */
    static Set<String> recoveredBefore(List<JournalEntry> journal) {
        Set<String> recovered = new HashSet<>();
        for (JournalEntry e : journal) {
            if (e.step() == JournalStep.RECOVER && e.event() == JournalEvent.OK) {
                recovered.add(e.device());
            }
        }
        return recovered;
    }

    /** A recorder that carries the migration on from where its journal stopped. */
    private Recorder settlement(MigrationRecord m, Phase last, MigrationPlan plan) {
        Journal journal = new Journal(store, m.id(), m.vm(), Role.SOURCE, m.peer(), clock);
        return new Recorder(plan, clock, journal, MigrationListener.NONE, last, m.startedAt());
    }

    /** The migration's plan as far as recovery needs it: its devices bound only when its QEMU is there to drive. */
    private MigrationPlan plan(MigrationRecord m, Optional<VmHandle> handle) {
        if (!vms.defined(m.vm())) {
            return new MigrationPlan(m.id(), m.vm(), "", host, m.mode(), m.peer(), List.of(), MigrationParams.defaults());
        }
        VmSpec spec = vms.spec(m.vm());
        List<MigrationPlan.Unit> units = handle.isEmpty() ? List.of()
                : MigrationPlan.units(devices, spec, new QmpGuestControl(handle.get().qmp()));
        return new MigrationPlan(m.id(), m.vm(), spec.uuid().toString(), host, m.mode(), m.peer(), units,
                MigrationParams.defaults());
    }

    private void end(MigrationRecord m, MigrationReport report) {
        store.saveMigration(m.ended(report.result(), SourceMigrations.reportJson(json, report), clock.instant()));
        log.warn("migration {} of vm '{}' settled after a restart: {} ({})", m.id(), m.vm(), report.result().wireName(),
                report.failure() == null ? String.join("; ", report.notes()) : report.failure().describe());
    }
}
