package dev.ferry.device;

/**
 * A device moved by an operator's tool: every step is one call of the tool. Used for
 * {@code external} devices and for any built-in device that hands its state to a tool.
 */
public final class ExternalToolController implements DeviceController {
    private final ToolRunner runner;
    private final ToolSpec tool;

    public ExternalToolController(ToolRunner runner, ToolSpec tool) {
        this.runner = runner;
        this.tool = tool;
    }

    @Override
    public StepSequence sequence() {
        return tool.sequence();
    }

    /**
     * Refuses arguments xend's dispatcher would mangle, whether or not the tool is called at step 0;
     * then asks the tool, when its sequence calls it at step 0.
     */
    @Override
    public Verdict check(DeviceContext ctx) throws DeviceException {
        String hazard = ToolArguments.dispatcherHazard(tool, ctx);
        if (hazard != null) {
            return Verdict.refuse(hazard);
        }
        if (!tool.sequence().calls(ctx.device(), Step.CHECK, ctx.mode())) {
            return Verdict.ok();
        }
        ToolRunner.Outcome outcome = runner.run(tool, ctx, Step.CHECK, null);
        if (!outcome.refused()) {
            return Verdict.ok();
        }
        String why = outcome.said();
        return Verdict.refuse("tool " + tool.executable() + " says no"
                + (why == null ? " (exit " + outcome.result().exitCode() + ")" : ": " + why));
    }

    @Override
    public void preSuspend(DeviceContext ctx) throws DeviceException {
        runner.run(tool, ctx, Step.PRE_SUSPEND, null);
    }

    @Override
    public void postSuspend(DeviceContext ctx) throws DeviceException {
        runner.run(tool, ctx, Step.POST_SUSPEND, null);
    }

    @Override
    public void sync(DeviceContext ctx) throws DeviceException {
        runner.run(tool, ctx, Step.SYNC, null);
    }

    @Override
    public void recover(DeviceContext ctx, Step lastGoodStep) throws DeviceException {
        runner.run(tool, ctx, null, lastGoodStep);
    }
}
