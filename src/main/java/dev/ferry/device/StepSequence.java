package dev.ferry.device;

import java.util.Collection;

/**
 * The order and scope in which a migration calls its devices: Ferry's own, or the one xend
 * promised the scripts written for it. The step runner asks this, and nothing else, how to
 * sequence steps and recoveries, so that anything that drives a tool the way a migration would
 * (a conformance check) produces exactly the same calls.
 *
 * <p>A device declares the sequence it needs ({@link DeviceController#sequence()}); a migration
 * follows xend's when any of its devices needs it ({@link #of}). In a xend migration the devices
 * that need only Ferry's sequence keep their own scope (called at every step, recovered only if
 * they started) but take their turn in xend's order.
 *
 * <table>
 *   <caption>What each sequence does</caption>
 *   <tr><th></th><th>FERRY</th><th>XEND</th></tr>
 *   <tr><td>step 0</td><td>every device, concurrently; every refusal reported</td>
 *       <td>one device at a time, stop at the first refusal; a xend device is not called in save
 *       mode, nor when its class is {@code vtpm}</td></tr>
 *   <tr><td>step 1</td><td>one device at a time, stop at the first failure</td><td>the same</td></tr>
 *   <tr><td>steps 2, 3</td><td>every device concurrently; all finish before a failure is reported</td>
 *       <td>one device at a time, stop at the first failure</td></tr>
 *   <tr><td>recovery</td><td>devices that started, newest first, each with its last completed step;
 *       a failing recovery does not stop the others</td>
 *       <td>every device, in spec order, each with its last completed step (step S for those before
 *       the failing one, S&minus;1 for it and those after it); a failing recovery stops the rest
 *       unless the device's class is {@code vtpm}</td></tr>
 * </table>
 */
public enum StepSequence {
    /** Ferry's sequence: concurrency where the protocol allows it, recovery of what started. */
    FERRY {
        @Override
        public boolean calls(DeviceRef device, Step step, Mode mode) {
            return true;
        }

        @Override
        public boolean serial(Step step) {
            return step == Step.PRE_SUSPEND;
        }

        @Override
        public boolean recoversUnstarted() {
            return false;
        }

        @Override
        public boolean recoveryFailureStopsTheRest(DeviceRef device) {
            return false;
        }
    },
    /** xend's sequence, for tools of the {@code xen} dialect written against xend's behaviour. */
    XEND {
        @Override
        public boolean calls(DeviceRef device, Step step, Mode mode) {
            // xend's vTPM controller answered step 0 itself, and a save asked no device at step 0.
            return step != Step.CHECK || (mode == Mode.LIVE && !isVtpm(device));
        }

        @Override
        public boolean serial(Step step) {
            return true;
        }

        @Override
        public boolean recoversUnstarted() {
            return true;
        }

        @Override
        public boolean recoveryFailureStopsTheRest(DeviceRef device) {
            // xend never read what the vTPM tool's recovery said; every other class's exit status stopped it.
            return !isVtpm(device);
        }
    };

    /** Whether {@code device}'s tool is called at {@code step} in {@code mode}; a device not called passes the step. */
    public abstract boolean calls(DeviceRef device, Step step, Mode mode);

    /** Whether {@code step} runs one device at a time in spec order, stopping at the first failure or refusal. */
    public abstract boolean serial(Step step);

    /**
     * Whether a rollback recovers this sequence's devices that never started a step (with
     * {@link Step#CHECK} as their last good step). xend recovered every device, in spec order; Ferry
     * only those that started, newest first.
     */
    public abstract boolean recoversUnstarted();

    /** Whether a failed recovery of {@code device} leaves the devices after it unrecovered. */
    public abstract boolean recoveryFailureStopsTheRest(DeviceRef device);

    /** Whether recoveries run in spec order (xend) rather than newest first (Ferry). */
    public boolean recoversInSpecOrder() {
        return this == XEND;
    }

    /** xend's sequence if any of {@code needs} is xend's, else Ferry's. */
    public static StepSequence of(Collection<StepSequence> needs) {
        return needs.contains(XEND) ? XEND : FERRY;
    }

    static boolean isVtpm(DeviceRef device) {
        return ToolArguments.xenClass(device).equals("vtpm");
    }
}
