package dev.ferry.migration;

import dev.ferry.migration.MigrationReport.Failure;

/**
 * Undoes a migration that did not reach the destination: the one rollback that both the live
 * path ({@link MigrationCoordinator}) and the restart path ({@link SourceRecovery}) run.
 *
 * <p>In order: cancel QEMU's migration if it was started; recover the devices as their sequence
 * says ({@link DeviceSteps#recover}), each with the last step it completed; tear down the destination if it was
 * touched; resume the guest only if it was running before. A step that fails is recorded and the
 * others still run; the result is ROLLED_BACK only if every step succeeded.
 */
final class Rollback {

    /** What the migration touched, as the live path tracked it or as the journal shows it. */
    record Touched(boolean guestWasRunning, boolean destinationTouched, boolean qemuStarted) {}

    private Rollback() {}

    /**
     * Runs the rollback, journaling ROLLING_BACK first when the journal may still go there (a
     * switchover the destination refused is undone from SWITCHOVER without it).
     */
    static Result run(Recorder rec, DeviceSteps devices, SourceQemu source, Destination destination, Touched touched,
                      String why) {
        if (rec.current() == null || rec.current().canFollow(Phase.ROLLING_BACK)) {
            rec.enter(Phase.ROLLING_BACK, why);
        }
        if (touched.qemuStarted()) {
            try {
                source.cancelMigration();
            } catch (MigrationException | RuntimeException e) {
                rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), null, "cancel",
                        "cancelling QEMU's migration failed: " + DeviceSteps.message(e)));
            }
        }
        devices.recover();
        if (touched.destinationTouched() && destination != null) {
            try {
                destination.abort();
            } catch (MigrationException | RuntimeException e) {
                rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), null, "abort",
                        "tearing down the destination failed: " + DeviceSteps.message(e)));
            }
        }
        resumeIfItWasRunning(rec, source, touched.guestWasRunning());
        return rec.recoveryClean() ? Result.ROLLED_BACK : Result.FAILED;
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
