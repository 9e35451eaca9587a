package dev.ferry.migration;

import dev.ferry.migration.MigrationReport.Failure;

/**
 * Undoes a migration that did not reach the destination: the one rollback that both the live
 * path ({@link MigrationCoordinator}) and the restart path ({@link SourceRecovery}) run.
 *
 * <p>In order: cancel QEMU's migration if it was started; recover the devices as their sequence
 * says ({@link DeviceSteps#recover}), each with the last step it completed; resume the guest if it
 * was running before and the destination was never asked to take it; tear down the destination if
 * it was touched (after the resume: the destination never held the guest, so its teardown need not
 * sit inside the guest's pause). When QEMU did not answer the cancel (a QEMU blocked on a
 * destination that stopped taking the stream answers once the teardown broke it), it is asked again
 * after the teardown and the guest resumed only then. A step that fails is recorded and the others
 * still run; the result is ROLLED_BACK only if every step succeeded.
 *
 * <p>Once the destination has been asked to take the VM, it may have taken it (a switchover
 * request can arrive late, or twice), so the guest is resumed here only when the destination
 * confirmed the abort; otherwise it stays paused and the caller keeps asking the destination
 * ({@link SourceRecovery}). The SPIN model ({@code model/ferry.pml}) found the run that resumed
 * both copies when this rule was missing.
 */
final class Rollback {

    /**
     * What the migration touched, as the live path tracked it or as the journal shows it;
     * {@code switchoverAsked}: the destination was asked to take the VM (SWITCHOVER was journaled).
     */
    record Touched(boolean guestWasRunning, boolean destinationTouched, boolean qemuStarted, boolean switchoverAsked) {}

    /**
     * How the rollback ended; {@code destinationSettled} is false when the destination was touched
     * and did not confirm the abort, so something of the migration may be left there (or the VM
     * may run there): the migration is not over until the destination answers.
     */
    record Outcome(Result result, boolean destinationSettled) {}

    private Rollback() {}

    /**
     * Runs the rollback, journaling ROLLING_BACK first when the journal may still go there (a
     * switchover the destination refused is undone from SWITCHOVER without it).
     */
    static Outcome run(Recorder rec, DeviceSteps devices, SourceQemu source, Destination destination, Touched touched,
                       String why) {
        if (rec.current() == null || rec.current().canFollow(Phase.ROLLING_BACK)) {
            rec.enter(Phase.ROLLING_BACK, why);
        }
        String cancelFailed = null;
        if (touched.qemuStarted()) {
            try {
                source.cancelMigration();
            } catch (MigrationException | RuntimeException e) {
                cancelFailed = DeviceSteps.message(e);
            }
        }
        devices.recover();
        // Before the switchover request the destination cannot have resumed the guest, so the source
        // resumes at once and the destination's teardown runs outside the guest's pause. Not when the
        // cancel went unanswered: QEMU may still be sending, and the teardown is what breaks that.
        boolean resumedFirst = !touched.switchoverAsked() && cancelFailed == null;
        if (resumedFirst) {
            resumeIfItWasRunning(rec, source, touched.guestWasRunning());
        }
        boolean destinationSettled = true;
        if (touched.destinationTouched() && destination != null) {
            try {
                destination.abort();
            } catch (MigrationException | RuntimeException e) {
                destinationSettled = false;
                rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), null, "abort",
                        "tearing down the destination failed: " + DeviceSteps.message(e)));
            }
        }
        if (cancelFailed != null) {
            // A source QEMU blocked sending to a destination that does not take the stream (stopped, hung)
            // answers nothing until that stream breaks: the destination's teardown breaks it, so ask again.
            try {
                source.cancelMigration();
                rec.note("QEMU's migration was cancelled once the destination was torn down (before, it did not"
                        + " answer: " + cancelFailed + ")");
            } catch (MigrationException | RuntimeException e) {
                rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), null, "cancel",
                        "cancelling QEMU's migration failed: " + cancelFailed + "; again after the destination's"
                                + " teardown: " + DeviceSteps.message(e)));
            }
        }
        if (resumedFirst) {
            // Resumed above.
        } else if (touched.switchoverAsked() && !destinationSettled) {
            rec.note("the destination was asked to take the VM and did not confirm the abort; the guest stays paused"
                    + " here until it answers");
        } else {
            resumeIfItWasRunning(rec, source, touched.guestWasRunning());
        }
        return new Outcome(rec.recoveryClean() ? Result.ROLLED_BACK : Result.FAILED, destinationSettled);
    }

    private static void resumeIfItWasRunning(Recorder rec, SourceQemu source, boolean wasRunning) {
        if (!wasRunning) {
            rec.note("the guest was paused before the migration and stays paused");
            return;
        }
        try {
            source.resume();
        } catch (MigrationException | RuntimeException e) {
            rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), null, "resume",
                    "resuming the guest on the source failed: " + DeviceSteps.message(e)));
        }
    }
}
