package dev.ferry.migration;

import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceException;
import dev.ferry.device.Step;
import dev.ferry.device.StepSequence;
import dev.ferry.device.Verdict;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.MigrationReport.Failure;
import dev.ferry.migration.MigrationReport.StepTiming;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Runs the device steps of one migration in the order its {@link StepSequence} prescribes, and
 * remembers, per device, whether it started anything and the last step it completed, so that a
 * rollback recovers what the sequence says: the devices that started, newest first (Ferry's), or
 * every device in spec order (xend's).
 */
final class DeviceSteps {

    /** One device's standing in this migration. Only the coordinator's thread writes it. */
    private static final class Tracked {
        final MigrationPlan.Unit unit;
        DeviceContext ctx;
        Step lastGood;
        /** Recovered by a rollback that ran before a restart; not recovered again. */
        boolean recovered;

        Tracked(MigrationPlan.Unit unit, DeviceContext ctx) {
            this.unit = unit;
            this.ctx = ctx;
        }

        String name() {
            return unit.ref().describe();
        }

        StepSequence needs() {
            return unit.controller().sequence();
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
    private final StepSequence sequence;

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
                    plan.params().diskBandwidthMiBps() * 1024 * 1024, plan.params().stallTimeout(), null,
                    plan.streamTls());
            devices.add(new Tracked(unit, ctx));
        }
        this.sequence = StepSequence.of(devices.stream().map(Tracked::needs).toList());
    }

    /** The sequence this migration's devices are called in. */
    StepSequence sequence() {
        return sequence;
    }

    /**
     * After a restart: marks the devices the journal shows started, in the order they started,
     * with the last step each completed, so that {@link #recover} recovers what the sequence says.
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

    /** After a restart: the devices the journal shows recovered already, which are not recovered again. */
    void recoveredBefore(Collection<String> deviceIds) {
        for (Tracked d : devices) {
            d.recovered |= deviceIds.contains(d.unit.ref().id());
        }
    }

    /**
     * Step 0. Ferry's sequence asks every device at once and returns every refusal; xend's asks one
     * device at a time and stops at the first refusal.
     */
    List<Blocker> checkAll(Duration deadline) throws InterruptedException {
        if (sequence.serial(Step.CHECK)) {
            return checkOneByOne(deadline);
        }
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
            checked(d, outcome, start).ifPresent(blockers::add);
        }
        return blockers;
    }

    private List<Blocker> checkOneByOne(Duration deadline) throws InterruptedException {
        for (Tracked d : devices) {
            Instant start = rec.now();
            Outcome<Verdict> outcome = await(executor.submit(() -> d.unit.controller().check(d.ctx)), start.plus(deadline));
            Optional<Blocker> blocker = checked(d, outcome, start);
            if (blocker.isPresent()) {
                return List.of(blocker.get());
            }
        }
        return List.of();
    }

    /** Records one device's answer at step 0; a refusal or an error is a blocker. */
    private Optional<Blocker> checked(Tracked d, Outcome<Verdict> outcome, Instant start) {
        String reason = outcome.error != null ? outcome.error
                : outcome.value.migratable() ? null : outcome.value.reason();
        String kind = outcome.error != null ? outcome.kind : reason == null ? "ok" : "refused";
        rec.step(new StepTiming(d.unit.ref().id(), d.unit.ref().type(), Step.CHECK.toolName(), start,
                outcome.elapsedMs(start, rec.now()), kind, reason));
        if (reason != null) {
            return Optional.of(new Blocker("source", d.name(), reason));
        }
        d.lastGood = Step.CHECK;
        return Optional.empty();
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

    /**
     * Step 2 or 3. Ferry's sequence runs every device concurrently and waits for all before
     * reporting any failure; xend's runs one device at a time and stops at the first failure.
     */
    void runStep(Step step, Duration deadline) throws StepFailure, InterruptedException {
        if (sequence.serial(step)) {
            oneByOne(step, deadline);
        } else {
            concurrently(step, deadline);
        }
    }

    private void oneByOne(Step step, Duration deadline) throws StepFailure, InterruptedException {
        for (Tracked d : devices) {
            Instant start = rec.now();
            rec.deviceJournal(d.unit.ref().id(), JournalStep.of(step), JournalEvent.START, "");
            Outcome<Instant> outcome = await(executor.submit(() -> {
                run(d, step);
                return rec.now();
            }), start.plus(deadline));
            if (outcome.error != null) {
                throw failed(d, step, start, outcome.kind, outcome.kind.equals("timed-out")
                        ? "did not finish " + step.toolName() + " within " + deadline.toMillis() + " ms" : outcome.error);
            }
            succeeded(d, step, start, outcome.value);
        }
    }

    private void concurrently(Step step, Duration deadline) throws StepFailure, InterruptedException {
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

    /**
     * Recovers as the sequence says, each device with the last step it completed ({@code check} if
     * none): Ferry's, the devices that started, newest first, every one even if another's recovery
     * fails; xend's, every device in spec order (those needing only Ferry's sequence if they
     * started), stopping at a failed recovery where xend stopped. Nothing is recovered when no
     * device started anything. Failures, and devices left unrecovered, are recorded, never thrown.
     */
    void recover() {
        if (started.isEmpty() && devices.stream().noneMatch(d -> d.recovered)) {
            return;
        }
        List<Tracked> order = new ArrayList<>(sequence.recoversInSpecOrder() ? devices : started);
        if (!sequence.recoversInSpecOrder()) {
            Collections.reverse(order);
        }
        for (int i = 0; i < order.size(); i++) {
            Tracked d = order.get(i);
            if (d.recovered || (!started.contains(d) && !d.needs().recoversUnstarted())) {
                continue;
            }
            if (!recover(d) && d.needs().recoveryFailureStopsTheRest(d.unit.ref())) {
                leftUnrecovered(d, order.subList(i + 1, order.size()));
                return;
            }
        }
    }

    /** Recovers one device; false when its recovery failed. */
    private boolean recover(Tracked d) {
        Step lastGood = d.lastGood == null ? Step.CHECK : d.lastGood;
        Instant start = rec.now();
        rec.deviceJournal(d.unit.ref().id(), JournalStep.RECOVER, JournalEvent.START, "last good step " + lastGood.toolName());
        try {
            d.unit.controller().recover(d.ctx, lastGood);
            rec.deviceJournal(d.unit.ref().id(), JournalStep.RECOVER, JournalEvent.OK, "");
            rec.step(timing(d, "recover", start, "ok", null));
            return true;
        } catch (DeviceException | RuntimeException e) {
            rec.deviceJournal(d.unit.ref().id(), JournalStep.RECOVER, JournalEvent.FAILED, message(e));
            rec.step(timing(d, "recover", start, "failed", message(e)));
            rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), d.name(), JournalStep.RECOVER.wireName(), message(e)));
            return false;
        }
    }

    private void leftUnrecovered(Tracked failed, List<Tracked> rest) {
        for (Tracked d : rest) {
            if (!d.recovered && (started.contains(d) || d.needs().recoversUnstarted())) {
                rec.recoveryFailed(new Failure(Phase.ROLLING_BACK.wireName(), d.name(), JournalStep.RECOVER.wireName(),
                        "not recovered: the recovery of " + failed.name() + " failed before it, and xend's sequence"
                                + " (the xen dialect's) stops there; recover it by hand or run the tool with -recover"));
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
