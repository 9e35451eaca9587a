package dev.ferry.migration;

import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceException;
import dev.ferry.device.Step;
import dev.ferry.device.Verdict;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.MigrationReport.Failure;
import dev.ferry.migration.MigrationReport.StepTiming;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Runs the device steps of one migration and remembers, per device, whether it started anything
 * and the last step it completed, so that a rollback recovers exactly the devices that started,
 * newest first.
 */
final class DeviceSteps {

    /** One device's standing in this migration. Only the coordinator's thread writes it. */
    private static final class Tracked {
        final MigrationPlan.Unit unit;
        DeviceContext ctx;
        Step lastGood;

        Tracked(MigrationPlan.Unit unit, DeviceContext ctx) {
            this.unit = unit;
            this.ctx = ctx;
        }

        String name() {
            return unit.ref().describe();
        }
    }

    /** A device step that failed, refused in time, or did not finish by its deadline. */
    static final class StepFailure extends Exception {
        final Failure failure;

        StepFailure(Failure failure) {
            super(failure.describe());
            this.failure = failure;
        }
    }

    private final Recorder rec;
    private final ExecutorService executor;
    private final BooleanSupplier cancelled;
    private static final long CANCEL_CHECK_MS = 100;

    private final List<Tracked> devices = new ArrayList<>();
    private final List<Tracked> started = new ArrayList<>();

    /** @param cancelled an operator's cancel: it stops waiting for device steps at once */
    DeviceSteps(MigrationPlan plan, Recorder rec, ExecutorService executor, BooleanSupplier cancelled) {
        this.rec = rec;
        this.executor = executor;
        this.cancelled = cancelled;
        for (MigrationPlan.Unit unit : plan.devices()) {
            DeviceContext ctx = new DeviceContext(plan.vmName(), plan.vmUuid(), unit.ref(), plan.mode(),
                    plan.destination(), event -> {
                        rec.listener().device(plan.id(), event);
                        if (event.message() != null) {
                            rec.note(unit.ref().id() + ": " + event.message());
                        }
                    }, null,
                    plan.params().diskBandwidthMiBps() * 1024 * 1024, plan.params().stallTimeout(), null);
            devices.add(new Tracked(unit, ctx));
        }
    }

    /**
     * After a restart: marks the devices the journal shows started, in the order they started,
     * with the last step each completed, so that {@link #recoverStarted} recovers exactly those.
     */
    void startedBefore(Map<String, Step> lastGoodByDevice) {
        for (Map.Entry<String, Step> e : lastGoodByDevice.entrySet()) {
            for (Tracked d : devices) {
                if (d.unit.ref().id().equals(e.getKey())) {
                    d.lastGood = e.getValue();
                    started.add(d);
                }
            }
        }
    }

    /** Step 0 for every device at once; every refusal is returned, none stops the others. */
    List<Blocker> checkAll(Duration deadline) throws InterruptedException {
        List<Future<Verdict>> futures = new ArrayList<>();
        for (Tracked d : devices) {
            futures.add(executor.submit(() -> d.unit.controller().check(d.ctx)));
        }
        List<Blocker> blockers = new ArrayList<>();
        Instant start = rec.now();
        Instant until = start.plus(deadline);
        for (int i = 0; i < devices.size(); i++) {
            Tracked d = devices.get(i);
            Outcome<Verdict> outcome = await(futures.get(i), until);
            String reason = outcome.error != null ? outcome.error
                    : outcome.value.migratable() ? null : outcome.value.reason();
            String kind = outcome.error != null ? outcome.kind : reason == null ? "ok" : "refused";
            rec.step(new StepTiming(d.unit.ref().id(), d.unit.ref().type(), Step.CHECK.toolName(), start,
                    outcome.elapsedMs(start, rec.now()), kind, reason));
            if (reason != null) {
                blockers.add(new Blocker("source", d.name(), reason));
            } else {
                d.lastGood = Step.CHECK;
            }
        }
        return blockers;
    }

    /** Gives each device the endpoint the destination prepared for it, if any. */
    void endpoints(Map<String, String> byDevice, String receiver) {
        for (Tracked d : devices) {
            d.ctx = d.ctx.withEndpoint(byDevice.get(d.unit.ref().id()), receiver);
        }
    }

    /**
     * Step 1, one device after the other in spec order (the first failure stops the rest); then
     * waits, for all devices at once, for the work their step 1 started.
     */
    void preSuspendAll(Duration readyDeadline) throws StepFailure, InterruptedException {
        startAll();
        Instant start = rec.now();
        List<Future<Void>> futures = new ArrayList<>();
        for (Tracked d : devices) {
            futures.add(executor.submit(() -> {
                d.unit.controller().awaitPreSuspend(d.ctx);
                return null;
            }));
        }
        Instant until = start.plus(readyDeadline);
        StepFailure first = null;
        for (int i = 0; i < devices.size(); i++) {
            Outcome<Void> outcome = await(futures.get(i), until);
            if (outcome.error != null && first == null) {
                Tracked d = devices.get(i);
                String why = outcome.kind.equals("timed-out")
                        ? "step 1's work did not finish within " + readyDeadline.toSeconds() + " s" : outcome.error;
                first = failed(d, Step.PRE_SUSPEND, start, outcome.kind, why);
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private void startAll() throws StepFailure {
        for (Tracked d : devices) {
            started.add(d);
            Instant start = rec.now();
            rec.deviceJournal(d.unit.ref().id(), JournalStep.PRE_SUSPEND, JournalEvent.START, "");
            try {
                d.unit.controller().preSuspend(d.ctx);
            } catch (DeviceException | RuntimeException e) {
                throw failed(d, Step.PRE_SUSPEND, start, "failed", message(e));
            }
            succeeded(d, Step.PRE_SUSPEND, start, rec.now());
        }
    }

    /** Step 2 or 3 for every device concurrently; waits for all before reporting any failure. */
    void concurrently(Step step, Duration deadline) throws StepFailure, InterruptedException {
        Instant start = rec.now();
        List<Future<Instant>> futures = new ArrayList<>();
        for (Tracked d : devices) {
            rec.deviceJournal(d.unit.ref().id(), JournalStep.of(step), JournalEvent.START, "");
            futures.add(executor.submit(() -> {
                run(d, step);
                // Timed here: the coordinator collects results in device order, after slower ones.
                return rec.now();
            }));
        }
        Instant until = start.plus(deadline);
        StepFailure first = null;
        for (int i = 0; i < devices.size(); i++) {
            Tracked d = devices.get(i);
            Outcome<Instant> outcome = await(futures.get(i), until);
            if (outcome.error == null) {
                succeeded(d, step, start, outcome.value);
            } else {
                String why = outcome.kind.equals("timed-out")
                        ? "did not finish " + step.toolName() + " within " + deadline.toMillis() + " ms"
                        : outcome.error;
                StepFailure f = failed(d, step, start, outcome.kind, why);
                if (first == null) {
                    first = f;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Recovers every device that started anything, newest first; failures are recorded, never thrown. */
    void recoverStarted() {
        for (int i = started.size() - 1; i >= 0; i--) {
            Tracked d = started.get(i);
            Step lastGood = d.lastGood == null ? Step.CHECK : d.lastGood;
            Instant start = rec.now();
            rec.deviceJournal(d.unit.ref().id(), JournalStep.RECOVER, JournalEvent.START, "last good step " + lastGood.toolName());
            try {
                d.unit.controller().recover(d.ctx, lastGood);
                rec.deviceJournal(d.unit.ref().id(), JournalStep.RECOVER, JournalEvent.OK, "");
                rec.step(timing(d, "recover", start, "ok", null));
            } catch (DeviceException | RuntimeException e) {
                rec.deviceJournal(d.unit.ref().id(), JournalStep.RECOVER, JournalEvent.FAILED, message(e));
                rec.step(timing(d, "recover", start, "failed", message(e)));
                rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), d.name(), JournalStep.RECOVER.wireName(), message(e)));
            }
        }
    }

    private static void run(Tracked d, Step step) throws DeviceException {
        switch (step) {
            case POST_SUSPEND -> d.unit.controller().postSuspend(d.ctx);
            case SYNC -> d.unit.controller().sync(d.ctx);
            default -> throw new IllegalStateException("Invalid concurrent step: " + step);
        }
    }

    private void succeeded(Tracked d, Step step, Instant start, Instant end) {
        d.lastGood = step;
        rec.deviceJournal(d.unit.ref().id(), JournalStep.of(step), JournalEvent.OK, "");
        rec.step(new StepTiming(d.unit.ref().id(), d.unit.ref().type(), step.toolName(), start,
                Duration.between(start, end).toMillis(), "ok", null));
    }

    private StepFailure failed(Tracked d, Step step, Instant start, String kind, String message) {
        rec.deviceJournal(d.unit.ref().id(), JournalStep.of(step), JournalEvent.fromWireName(kind), message);
        rec.step(timing(d, step.toolName(), start, kind, message));
        return new StepFailure(new Failure(phaseOf(step).wireName(), d.name(), step.toolName(), message));
    }

    private StepTiming timing(Tracked d, String step, Instant start, String outcome, String message) {
        return new StepTiming(d.unit.ref().id(), d.unit.ref().type(), step, start,
                Duration.between(start, rec.now()).toMillis(), outcome, message);
    }

    private static Phase phaseOf(Step step) {
        return switch (step) {
            case CHECK -> Phase.CHECK;
            case PRE_SUSPEND -> Phase.PRE_SUSPEND;
            case POST_SUSPEND -> Phase.POST_SUSPEND;
            case SYNC -> Phase.SYNC;
        };
    }

    private record Outcome<T>(T value, String error, String kind, Instant at) {
        long elapsedMs(Instant start, Instant fallback) {
            return Duration.between(start, at == null ? fallback : at).toMillis();
        }
    }

    /** Waits for one device's step until {@code until}; a late step is interrupted and counted as timed out. */
    private <T> Outcome<T> await(Future<T> future, Instant until) throws InterruptedException {
        try {
            while (true) {
                long waitMs = Math.max(0, Duration.between(rec.now(), until).toMillis());
                try {
                    // In slices, so that an operator's cancel stops a long step (a tool, a disk copy) at once.
                    return new Outcome<>(future.get(Math.min(waitMs, CANCEL_CHECK_MS), TimeUnit.MILLISECONDS), null,
                            "ok", rec.now());
                } catch (TimeoutException e) {
                    if (cancelled.getAsBoolean()) {
                        future.cancel(true);
                        return new Outcome<>(null, "stopped by a cancel", "cancelled", rec.now());
                    }
                    if (waitMs <= CANCEL_CHECK_MS) {
                        future.cancel(true);
                        return new Outcome<>(null, "did not answer in time", "timed-out", rec.now());
                    }
                }
            }
        } catch (CancellationException e) {
            return new Outcome<>(null, "cancelled", "failed", rec.now());
        } catch (ExecutionException e) {
            return new Outcome<>(null, message(e.getCause()), "failed", rec.now());
        }
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
