package dev.ferry.device;

/**
 * The one contract every device follows during a migration or a save (the proposal's four
 * steps plus recovery). The coordinator calls these in order and never asks what type of device
 * it is talking to.
 *
 * <p>Steps other than {@link #check} may have side effects; when any device fails, every device
 * that started a step gets {@link #recover} with the last step it completed, newest first.
 * {@link #postSuspend} runs concurrently with the other devices' post-suspend work; a device
 * that starts background work there waits for it in {@link #sync}. A migration whose devices
 * include one that needs xend's {@link #sequence()} calls them as xend did instead.
 */
public interface DeviceController {

    /**
     * The sequence this device needs its steps and recovery called in. A migration follows xend's
     * when any of its devices needs it (see {@link StepSequence}).
     */
    default StepSequence sequence() {
        return StepSequence.FERRY;
    }

    /** Step 0: can this device move? No side effects. Throwing counts as a refusal. */
    Verdict check(DeviceContext ctx) throws DeviceException;

    /** Step 1: the guest still runs. Long work (a disk copy) is started here, not waited for. */
    default void preSuspend(DeviceContext ctx) throws DeviceException {}

    /**
     * Waits for what step 1 started, for every device at once, before QEMU copies RAM (a disk
     * copy must be in step with the guest's writes first). A failure here counts as a failure of step 1.
     */
    default void awaitPreSuspend(DeviceContext ctx) throws DeviceException {}

    /** Step 2: the guest is paused; runs concurrently with other devices' step 2. */
    default void postSuspend(DeviceContext ctx) throws DeviceException {}

    /** Step 3: finish what step 2 started. */
    default void sync(DeviceContext ctx) throws DeviceException {}

    /**
     * Undoes whatever this device started. {@code lastGoodStep} is the last step it completed;
     * {@link Step#CHECK} when its first side-effecting step failed part way.
     */
    default void recover(DeviceContext ctx, Step lastGoodStep) throws DeviceException {}

    /** After the guest resumed on the destination (the point of no return); failures are reported, not rolled back. */
    default void afterResume(DeviceContext ctx) throws DeviceException {}
}
