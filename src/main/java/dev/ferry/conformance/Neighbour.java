package dev.ferry.conformance;

import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceController;
import dev.ferry.device.DeviceException;
import dev.ferry.device.DeviceRef;
import dev.ferry.device.Step;
import dev.ferry.device.Verdict;

/**
 * A device beside the tool's that moves in-band and fails at one step when a scenario says so, so
 * that the sequence shows what the tool gets when another device breaks before or after it.
 */
final class Neighbour implements DeviceController {
    static final DeviceRef BEFORE = new DeviceRef("before", "external", "neighbour");
    static final DeviceRef AFTER = new DeviceRef("after", "external", "neighbour");

    private final Step failsAt;

    /** @param failsAt the step that fails, or null for none */
    Neighbour(Step failsAt) {
        this.failsAt = failsAt;
    }

    @Override
    public Verdict check(DeviceContext ctx) {
        return Verdict.ok();
    }

    @Override
    public void preSuspend(DeviceContext ctx) throws DeviceException {
        failIf(Step.PRE_SUSPEND, ctx);
    }

    @Override
    public void postSuspend(DeviceContext ctx) throws DeviceException {
        failIf(Step.POST_SUSPEND, ctx);
    }

    @Override
    public void sync(DeviceContext ctx) throws DeviceException {
        failIf(Step.SYNC, ctx);
    }

    private void failIf(Step step, DeviceContext ctx) throws DeviceException {
        if (step == failsAt) {
            throw new DeviceException(ctx.device().describe() + " failed at " + step.toolName() + " as the check staged it");
        }
    }
}
