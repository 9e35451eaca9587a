package dev.ferry.conformance;

import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceController;
import dev.ferry.device.DeviceException;
import dev.ferry.device.Step;
import dev.ferry.device.Verdict;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tool's own controller as a migration binds it, watched: each call the sequence makes is
 * recorded with what Ferry made of it, a scenario can count the tool's step as failed after the
 * tool did its work, and the last recovery can be repeated. The migration gets {@link #bound()},
 * which passes every other method of {@link DeviceController} to the tool unchanged, so that the
 * sequence treats the tool exactly as it would unwatched, whatever the contract comes to ask.
 */
final class WatchedTool implements DeviceController {
    private final DeviceController tool;
    private final CallProbe probe;
    private final Scratch scratch;
    private final Step failAfter;
    private final List<CheckedCall> calls = new ArrayList<>();
    /** The call under way; the tool is one device, so at most one call runs at a time. */
    private volatile CheckedCall inProgress;
    private DeviceContext lastRecoverCtx;
    private Step lastRecoverStep;

    /** @param failAfter the step counted as failed once the tool finished it, or null */
    WatchedTool(DeviceController tool, CallProbe probe, Scratch scratch, Step failAfter) {
        this.tool = tool;
        this.probe = probe;
        this.scratch = scratch;
        this.failAfter = failAfter;
    }

    /** The controller to bind: the methods this class declares are watched, every other goes to the tool. */
    DeviceController bound() {
        return (DeviceController) Proxy.newProxyInstance(DeviceController.class.getClassLoader(),
                new Class<?>[] {DeviceController.class}, this::route);
    }

    private Object route(Object proxy, Method method, Object[] args) throws Throwable {
        Object target = watches(method) ? this : tool;
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static boolean watches(Method method) {
        try {
            WatchedTool.class.getDeclaredMethod(method.getName(), method.getParameterTypes());
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** The calls so far, in the order they were made. */
    synchronized List<CheckedCall> calls() {
        return List.copyOf(calls);
    }

    /** A message the tool reported during its call under way ({@code {"message":...}}), as Ferry notes it. */
    void said(String message) {
        CheckedCall call = inProgress;
        if (call != null) {
            call.note(message);
        }
    }

    /** Whether the sequence recovered the tool. */
    synchronized boolean recovered() {
        return lastRecoverCtx != null;
    }

    @Override
    public Verdict check(DeviceContext ctx) throws DeviceException {
        Map<String, String> before = scratch.snapshot();
        CheckedCall call = begin(Step.CHECK.toolName());
        Verdict verdict;
        try {
            verdict = tool.check(ctx);
        } catch (DeviceException | RuntimeException e) {
            call.said(e.getMessage(), true);
            throw e;
        } finally {
            end();
        }
        call.said(verdict.migratable() ? null : verdict.reason(), !verdict.migratable());
        forgetIfNotRun(call);
        List<String> changes = Scratch.changes(before, scratch.snapshot(), 5);
        if (!changes.isEmpty()) {
            call.problem("step 0 changed files (" + String.join(", ", changes) + "); a check must have no side effects");
        }
        return verdict;
    }

    @Override
    public void preSuspend(DeviceContext ctx) throws DeviceException {
        step(Step.PRE_SUSPEND, () -> tool.preSuspend(ctx));
    }

    @Override
    public void postSuspend(DeviceContext ctx) throws DeviceException {
        step(Step.POST_SUSPEND, () -> tool.postSuspend(ctx));
    }

    @Override
    public void sync(DeviceContext ctx) throws DeviceException {
        step(Step.SYNC, () -> tool.sync(ctx));
    }

    @Override
    public void recover(DeviceContext ctx, Step lastGoodStep) throws DeviceException {
        synchronized (this) {
            lastRecoverCtx = ctx;
            lastRecoverStep = lastGoodStep;
        }
        call("recover after " + lastGoodStep.toolName(), () -> tool.recover(ctx, lastGoodStep));
    }

    /** Calls the last recovery again with the same arguments: a recovery may be retried after a crash. */
    void recoverAgain() {
        DeviceContext ctx;
        Step step;
        synchronized (this) {
            ctx = lastRecoverCtx;
            step = lastRecoverStep;
        }
        try {
            call("recover again after " + step.toolName(), () -> tool.recover(ctx, step));
        } catch (DeviceException e) {
            // Recorded on the call; the check reports it.
        }
    }

    private interface Action {
        void run() throws DeviceException;
    }

    private void step(Step step, Action action) throws DeviceException {
        call(step.toolName(), action);
        if (step == failAfter) {
            throw new DeviceException("the check counts " + step.toolName() + " as failed after the tool finished it");
        }
    }

    private void call(String label, Action action) throws DeviceException {
        CheckedCall call = begin(label);
        try {
            action.run();
            call.said(call.note(), false);
            forgetIfNotRun(call);
        } catch (DeviceException | RuntimeException e) {
            call.said(e.getMessage(), true);
            throw e;
        } finally {
            end();
        }
    }

    private synchronized CheckedCall begin(String label) {
        CheckedCall call = new CheckedCall(label);
        calls.add(call);
        probe.begin(call);
        inProgress = call;
        return call;
    }

    /**
     * Forgets a call in which the tool never ran and nothing failed: the controller answered for
     * the tool (a sequence that does not call it at step 0), so the tool was not called at all.
     */
    private synchronized void forgetIfNotRun(CheckedCall call) {
        if (call.argv().isEmpty() && !call.failed()) {
            calls.remove(call);
        }
    }

    private void end() {
        inProgress = null;
        probe.end();
    }
}
