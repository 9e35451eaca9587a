package dev.ferry.migration;

import dev.ferry.device.Step;
import dev.ferry.migration.Cancellation.CancelledException;
import dev.ferry.migration.DeviceSteps.StepFailure;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.MigrationReport.Failure;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * Drives one migration from the source side, phase by phase, and rolls back on any failure
 * before switchover.
 *
 * <pre>
 *  source                                   destination
 *  CHECK       devices' step 0  ----------> check()        (all blockers reported together)
 *  PREPARE                      ----------> prepare()      backends + incoming QEMU, returns URI
 *              source QEMU configured (TLS credentials, stream parameters)
 *  PRE_SUSPEND devices' step 1 (in order)
 *  RAM_COPY    QEMU migrate (pause-before-switchover) ==> RAM while the guest runs
 *              ... QEMU pauses the guest: downtime starts
 *  POST_SUSPEND devices' step 2, concurrently (one by one in xend's sequence)
 *  SYNC        devices' step 3, likewise; then QEMU finishes
 *  SWITCHOVER                   ----------> switchover()   records ownership, resumes: downtime ends
 *  CLEANUP     quit source QEMU, release backends
 * </pre>
 *
 * Which devices step 0 asks, and in what order steps run, is the devices' {@link
 * dev.ferry.device.StepSequence}'s to say: Ferry's, or xend's for xen-dialect tools.
 *
 * <p>A failure before SWITCHOVER cancels QEMU's migration, recovers the devices (those that
 * started, newest first, or in xend's sequence every device in spec order; each with its last
 * completed step), aborts the destination and resumes the source only if it was running
 * ({@link Rollback}). From SWITCHOVER on the source is never resumed.
 */
public final class MigrationCoordinator {
    private final Clock clock;
    private final ExecutorService stepExecutor;

    public MigrationCoordinator(Clock clock, ExecutorService stepExecutor) {
        this.clock = clock;
        this.stepExecutor = stepExecutor;
    }

    /** Runs CHECK on both sides only; nothing is started anywhere and nothing is journaled. */
    public MigrationReport dryRun(MigrationPlan plan, Destination destination, MigrationListener listener)
            throws InterruptedException {
        Recorder rec = new Recorder(plan, clock, Journal.discarding(plan.id(), plan.vmName(), clock), listener);
        DeviceSteps devices = new DeviceSteps(plan, rec, stepExecutor, () -> false);
        rec.enter(Phase.CHECK);
        List<Blocker> blockers = checkBothSides(plan, devices, destination);
        rec.note("dry run: nothing was started");
        return rec.finish(blockers.isEmpty() ? Result.CHECKED : Result.REFUSED, blockers, null);
    }

    /** Runs the whole migration; never throws for a migration failure, the report says what happened. */
    public MigrationReport migrate(MigrationPlan plan, SourceQemu source, Destination destination, Journal journal,
                                   MigrationListener listener, Cancellation cancel) throws InterruptedException {
        Recorder rec = new Recorder(plan, clock, journal, listener);
        DeviceSteps devices = new DeviceSteps(plan, rec, stepExecutor, cancel::isCancelled);
        Progress progress = new Progress();
        try {
            progress.wasRunning = source.isRunning();
            rec.enterCheck(progress.wasRunning);
            List<Blocker> blockers = checkBothSides(plan, devices, destination);
            // A cancel during CHECK is a cancel, whether or not it stopped a device's check before it answered.
            cancel.throwIfCancelled();
            if (!blockers.isEmpty()) {
                return rec.finish(Result.REFUSED, blockers, null);
            }

            rec.enter(Phase.PREPARE);
            progress.destinationTouched = true;
            PeerProtocol.Prepared prepared = destination.prepare();
            progress.receiver = receiver(plan, prepared);
            devices.endpoints(prepared.endpoints(), progress.receiver);
            cancel.throwIfCancelled();

            // Before the devices' step 1: a disk's copy starts there and uses the stream's TLS credentials.
            source.configure(plan.params());
            rec.enter(Phase.PRE_SUSPEND);
            devices.preSuspendAll(plan.params().convergeTimeout());
            cancel.throwIfCancelled();

            rec.enter(Phase.RAM_COPY, prepared.uri());
            progress.qemuStarted = true;
            source.startMigration(prepared.uri());
            rec.paused(source.awaitPreSwitchover(plan.params().convergeTimeout(), rec::ram, cancel::isCancelled));
            cancel.throwIfCancelled();

            rec.enter(Phase.POST_SUSPEND);
            devices.runStep(Step.POST_SUSPEND, plan.params().stepDeadline());
            rec.enter(Phase.SYNC);
            devices.runStep(Step.SYNC, plan.params().stepDeadline());
            cancel.throwIfCancelled();
            source.continueSwitchover();
            SourceQemu.Completion done = source.awaitCompleted(plan.params().convergeTimeout());
            rec.qemuDowntime(done.downtimeMs());
            if (done.ram() != null) {
                rec.ram(done.ram());
            }
        } catch (StepFailure e) {
            Failure f = cancel.isCancelled()
                    ? new Failure(rec.failedIn().wireName(), null, null, "cancelled by the operator during "
                            + rec.failedIn().wireName() + " (" + e.failure.describe() + ")")
                    : e.failure;
            return rollBack(rec, devices, source, destination, progress.touched(), f);
        } catch (CancelledException e) {
            return rollBack(rec, devices, source, destination, progress.touched(),
                    new Failure(rec.failedIn().wireName(), null, null, e.getMessage()));
        } catch (StalledException e) {
            // The source answers but its stream does not move: name who should be taking it.
            String suspect = "";
            if (e.inStream() && progress.receiver != null) {
                suspect = "; " + progress.receiver + " is not taking it: it is stopped or hung, or the link to it is";
            } else if (e.sourceSilentWithoutCause() && progress.qemuStarted && progress.receiver != null) {
                suspect = "; it may be blocked sending its final copy to " + progress.receiver
                        + ", which is not taking the stream (stopped or hung, or the link to it is)";
            }
            return rollBack(rec, devices, source, destination, progress.touched(),
                    new Failure(rec.failedIn().wireName(), null, null, DeviceSteps.message(e) + suspect));
        } catch (MigrationException | RuntimeException | StackOverflowError | OutOfMemoryError e) {
            // Before switchover a rollback is always possible, and it is what leaves nothing behind. An
            // overflow or a heap exhausted by one huge allocation unwinds to here with room to roll back.
            return rollBack(rec, devices, source, destination, progress.touched(), new Failure(rec.failedIn().wireName(),
                    null, null, e instanceof Error ? "the migration ran into " + e : DeviceSteps.message(e)));
        }
        return switchOver(rec, devices, source, destination, progress);
    }

    /** Who receives the migration on the destination, as messages name it. */
    private static String receiver(MigrationPlan plan, PeerProtocol.Prepared prepared) {
        return prepared.qemuPid() == null ? "the destination (" + plan.destination() + ")"
                : "the destination's incoming QEMU (pid " + prepared.qemuPid() + " on '" + plan.destination() + "')";
    }

    private MigrationReport switchOver(Recorder rec, DeviceSteps devices, SourceQemu source,
                                       Destination destination, Progress progress) {
        rec.enter(Phase.SWITCHOVER);
        try {
            PeerProtocol.Switchover sw = destination.switchover();
            rec.resumed();
            if (!sw.resumed()) {
                rec.note("the guest was paused before the migration and stays paused on the destination");
            }
            sw.notes().forEach(rec::note);
        } catch (Destination.NotTakenException e) {
            // The destination says for certain it did not take the VM, so the source still owns it.
            // QEMU finished sending; the source's copy is intact and only needs resuming.
            Failure f = new Failure(Phase.SWITCHOVER.wireName(), null, null, DeviceSteps.message(e));
            Rollback.Touched touched = new Rollback.Touched(progress.wasRunning, true, false, true);
            return rollBack(rec, devices, source, destination, touched, f);
        } catch (MigrationException | RuntimeException e) {
            // Nobody can say who owns the VM now; resuming the source could run it twice.
            return rec.finishOwnerUnknown(new Failure(Phase.SWITCHOVER.wireName(), null, null, DeviceSteps.message(e)
                    + "; the source keeps the guest paused and will not resume it until the destination answers"));
        }
        rec.enter(Phase.CLEANUP);
        try {
            source.release();
        } catch (MigrationException | RuntimeException e) {
            rec.note("cleanup on the source failed: " + DeviceSteps.message(e));
        }
        return rec.finish(Result.COMPLETED, List.of(), null);
    }

    /**
     * Rolls back; when the destination did not confirm the abort, the migration ends with its owner
     * unknown, so that the source keeps asking the destination until nothing of it is left there.
     */
    private static MigrationReport rollBack(Recorder rec, DeviceSteps devices, SourceQemu source,
                                            Destination destination, Rollback.Touched touched, Failure failure) {
        Rollback.Outcome done = Rollback.run(rec, devices, source, destination, touched, failure.describe());
        if (!done.destinationSettled()) {
            return rec.finishOwnerUnknown(new Failure(failure.phase(), failure.device(), failure.step(),
                    failure.message() + "; the destination did not confirm the abort, so the source asks it again"
                            + " every 5 s until it does"));
        }
        return rec.finish(done.result(), List.of(), failure);
    }

    private static List<Blocker> checkBothSides(MigrationPlan plan, DeviceSteps devices, Destination destination)
            throws InterruptedException {
        List<Blocker> blockers = new ArrayList<>(devices.checkAll(plan.params().stepDeadline()));
        try {
            blockers.addAll(destination.check());
        } catch (MigrationException | RuntimeException e) {
            blockers.add(new Blocker("destination", null, DeviceSteps.message(e)));
        }
        return blockers;
    }

    /** What this migration has touched so far, for the rollback. */
    private static final class Progress {
        boolean wasRunning;
        boolean destinationTouched;
        boolean qemuStarted;
        /** Who takes the stream, once the destination prepared. */
        String receiver;

        Rollback.Touched touched() {
            return new Rollback.Touched(wasRunning, destinationTouched, qemuStarted, false);
        }
    }
}
