package dev.ferry.fault;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.ferry.lab.Api;
import dev.ferry.lab.Invariants;
import dev.ferry.lab.Lab;
import dev.ferry.lab.LinkProxy;
import dev.ferry.lab.MatrixGuest;
import dev.ferry.lab.SmallDisk;
import dev.ferry.proc.Processes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Runs one cell: holds a migration of the guest in the row's phase, injects the column's fault,
 * waits for the migration to end, and checks every invariant. A cell that broke something resets
 * the lab so the next one starts clean.
 *
 * <p>Every hold stops the migration itself, never a clock: the tool waits at its step, the link
 * proxy keeps back a peer request or its answer, the destination's QEMU launcher waits after
 * starting an incoming QEMU, or a QEMU the phase cannot finish without is stopped (SIGSTOP) until
 * the fault is in. Nothing depends on how fast the machine is.
 */
final class FaultRun {
    /** Each tool step's timeout in the agents' config: short, so a hang costs the matrix little. */
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration HOLD_LIMIT = Duration.ofSeconds(60);
    private static final Duration MIGRATION_LIMIT = Duration.ofMinutes(3);
    private static final Duration RECOVERY_GRACE = Duration.ofSeconds(10);
    static final Set<String> FINAL = Invariants.FINAL;
    /** The stall column's stall timeout; the other columns' (whose holds may stop a QEMU) is the converge timeout. */
    static final Duration STALL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(60);
    /** Longer than the source's retry (5 s) plus an abort's patience at the stall column's timeout (6 x 5 s). */
    private static final Duration SETTLE_LIMIT = Duration.ofSeconds(60);

    private final Lab lab;
    private final MatrixGuest guest;
    /** Each host's data directory as a small file system of its own, for {@link Fault#FULL_DISK}. */
    private final Map<String, SmallDisk> disks;
    /** QEMU processes a hold stopped, resumed when the holds are released. */
    private final List<Long> frozen = new ArrayList<>();
    /** Processes the stall fault stopped, resumed once the migration ended. */
    private final List<Long> stalled = new ArrayList<>();

    FaultRun(Lab lab, MatrixGuest guest, Map<String, SmallDisk> disks) {
        this.lab = lab;
        this.guest = guest;
        this.disks = disks;
    }

    /** Why a cell cannot be run, or empty when it can. */
    static Optional<String> notApplicable(Row row, Fault fault) {
        if (fault.isToolFault() && row.toolStep == null) {
            return Optional.of("no tool runs in this phase");
        }
        if (fault == Fault.DEST_QEMU_KILL && row == Row.CHECK) {
            return Optional.of("no destination QEMU exists before prepare");
        }
        if (fault == Fault.STALL && row == Row.SWITCHOVER) {
            return Optional.of("the source never gives up on a destination that does not answer the switchover (it"
                    + " cannot know who owns the VM); the link-cut cell is that case");
        }
        if (fault == Fault.DEST_QEMU_KILL && row == Row.CLEANUP) {
            return Optional.of("after switchover the destination's QEMU is the guest's only copy; killing it is a guest"
                    + " crash, not a migration fault");
        }
        return Optional.empty();
    }

    CellResult run(Row row, Fault fault) throws Exception {
        long start = System.nanoTime();
        String from = guest.owner();
        String to = lab.other(from);
        List<String> problems = new ArrayList<>();
        String outcome = "?";
        String stalledWho = null;
        try {
            String id = startMigration(row, fault, from, to);
            Integer cancelStatus = null;
            if (!fault.isToolFault()) {
                String landed = holdIn(row, from, to, id);
                if (landed != null) {
                    problems.add(landed);
                }
                if (fault == Fault.STALL) {
                    stalledWho = stall(row, to);
                } else {
                    cancelStatus = inject(fault, from, to, id);
                }
                releaseHolds(to);
                if (fault == Fault.SOURCE_AGENT_KILL || fault == Fault.DEST_AGENT_KILL) {
                    lab.agent(fault == Fault.SOURCE_AGENT_KILL ? from : to).start();
                }
            }
            JsonNode status = awaitEnd(from, id);
            outcome = status.path("phase").asText("?");
            problems.addAll(expectations(row, fault, status, cancelStatus));
            if (fault == Fault.TOOL_CHILD_ESCAPE) {
                List<Long> alive = lab.tool().escapedPids().stream().filter(Processes::isAlive).toList();
                if (lab.tool().escapedPids().size() != 3 || !alive.isEmpty()) {
                    problems.add("of the tool's children " + lab.tool().escapedPids() + " these outlived its step: " + alive);
                }
            }
            if (fault == Fault.STALL) {
                problems.addAll(stallExpectations(row, status, stalledWho));
                continueStalled();
                problems.addAll(awaitNothingLeftOn(outcome.equals("completed") ? from : to));
            }
            // The room comes back before the invariants are checked: a guest whose host stays full cannot log its ticks.
            unfill();
            awaitSettled();
            problems.addAll(new Invariants(lab, guest).check(from, to, id));
            if (!problems.isEmpty()) {
                problems.add("the source's report: " + reportSummary(status));
                // The table abbreviates; the whole report is what explains a failure.
                System.out.println("fault matrix: " + row.label + " x " + fault.label + " failed; the source's status: " + status);
            }
        } catch (Exception e) {
            problems.add("the suite could not run the cell: " + e);
        } finally {
            continueStalled();
            unfill();
            lab.tool().reset();
            releaseHolds(to);
            lab.linkTo(to).heal();
        }
        boolean reset = false;
        if (!problems.isEmpty()) {
            guest.reset();
            reset = true;
        }
        return CellResult.of(row, fault, outcome, problems, reset, (System.nanoTime() - start) / 1_000_000);
    }

    private String startMigration(Row row, Fault fault, String from, String to) throws Exception {
        if (fault.isToolFault()) {
            lab.tool().at(row.toolStep, fault.toolBehaviour);
        } else {
            switch (row) {
                case CHECK, PRE_SUSPEND, POST_SUSPEND, SYNC -> lab.tool().holdAt(row.toolStep);
                case IN_PREPARE -> lab.qemuHold(to).holdIncoming();
                case PREPARE, RAM_COPY -> lab.linkTo(to).holdNext("/prepare ", LinkProxy.Hold.RESPONSE);
                case SWITCHOVER -> lab.linkTo(to).holdNext("/switchover ", LinkProxy.Hold.REQUEST);
                case CLEANUP -> lab.linkTo(to).holdNext("/switchover ", LinkProxy.Hold.RESPONSE);
                default -> throw new IllegalStateException("Invalid row: " + row);
            }
        }
        // Holds that stop a QEMU must not count as stalls in the other columns: their stall timeout is long.
        Map<String, Object> req = Map.of("vm", MatrixGuest.VM, "to", to, "stepDeadlineSeconds", 20,
                "convergeTimeoutSeconds", CONVERGE_TIMEOUT.toSeconds(), "stallTimeoutSeconds",
                (fault == Fault.STALL ? STALL_TIMEOUT : CONVERGE_TIMEOUT).toSeconds());
        Api.Reply started = lab.api(from).post("/v1/migrations", req);
        if (started.status() != 202) {
            throw new IllegalStateException("migrate from " + from + ": HTTP " + started.status() + " " + started.body());
        }
        return started.text("id");
    }

    /** Waits until the migration is held in {@code row}; returns a problem when it never got there. */
    private String holdIn(Row row, String from, String to, String id) throws Exception {
        boolean held = switch (row) {
            case CHECK, PRE_SUSPEND, POST_SUSPEND, SYNC -> lab.tool().awaitHeld(HOLD_LIMIT);
            case IN_PREPARE -> lab.qemuHold(to).awaitHeld(HOLD_LIMIT) && awaitPhase(from, id, "prepare");
            case PREPARE, SWITCHOVER -> lab.linkTo(to).awaitHeld(HOLD_LIMIT);
            case RAM_COPY -> {
                // The destination's incoming QEMU stands still: the RAM stream stalls once the
                // socket buffers are full, and the source cannot leave ram-copy until it resumes.
                boolean prepared = lab.linkTo(to).awaitHeld(HOLD_LIMIT);
                if (prepared) {
                    freeze(lab.qemusOf(to), to + "'s incoming QEMU");
                }
                lab.linkTo(to).release();
                yield prepared && awaitPhase(from, id, "ram-copy");
            }
            case CLEANUP -> {
                // The destination runs the guest already; the source's QEMU is finished and idle.
                // Stopped, it cannot answer the quit that cleanup sends, so the source stays in
                // cleanup (for QEMU's command and exit timeouts, 20 s, before it kills it).
                boolean answered = lab.linkTo(to).awaitHeld(HOLD_LIMIT);
                if (answered) {
                    freeze(List.of(lab.api(from).qemuPid(MatrixGuest.VM)), from + "'s QEMU");
                }
                lab.linkTo(to).release();
                yield answered && awaitPhase(from, id, "cleanup");
            }
        };
        if (held) {
            return null;
        }
        JsonNode s = lab.api(from).get("/v1/migrations/" + id).body();
        return "the fault could not land in " + row.label + ": the migration was at " + s.path("phase").asText("?");
    }

    private void freeze(List<Long> pids, String what) throws Exception {
        if (pids.size() != 1) {
            throw new IllegalStateException("expected one QEMU to stop as " + what + ", found " + pids);
        }
        lab.freeze(pids.get(0));
        frozen.add(pids.get(0));
    }

    /** Whether the source reports {@code phase} while the migration still runs (a hold keeps it there). */
    private boolean awaitPhase(String host, String id, String phase) {
        try {
            JsonNode s = await("migration " + id + " in " + phase).atMost(HOLD_LIMIT).pollInterval(Duration.ofMillis(10))
                    .until(() -> lab.api(host).get("/v1/migrations/" + id).body(),
                            b -> phase.equals(b.path("phase").asText()) || !b.path("running").asBoolean(true));
            return phase.equals(s.path("phase").asText());
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** Injects {@code fault}; returns the cancel's HTTP status for a cancel. */
    private Integer inject(Fault fault, String from, String to, String id) throws Exception {
        switch (fault) {
            case SOURCE_AGENT_KILL -> lab.agent(from).kill9();
            case DEST_AGENT_KILL -> lab.agent(to).kill9();
            case DEST_QEMU_KILL -> {
                List<Long> qemus = lab.qemusOf(to);
                if (qemus.isEmpty()) {
                    throw new IllegalStateException("no QEMU runs on " + to + " to kill");
                }
                qemus.forEach(Processes::kill);
            }
            case LINK_CUT -> {
                LinkProxy link = lab.linkTo(to);
                int before = link.turnedAway();
                link.cut();
                releaseHolds(to);
                // The cut has landed once the source was turned away, or once the migration ended without
                // needing the destination again (a cut in cleanup): then the link heals.
                await("the source meets the cut link").atMost(MIGRATION_LIMIT).pollInterval(Duration.ofMillis(50))
                        .ignoreExceptions().until(() -> link.turnedAway() > before || ended(from, id));
                link.heal();
            }
            case CANCEL -> {
                return lab.api(from).post("/v1/migrations/" + id + "/cancel", Map.of()).status();
            }
            case FULL_DISK -> disks.get(to).fill();
            default -> throw new IllegalStateException("Invalid fault for injection: " + fault);
        }
        return null;
    }

    /**
     * Stops what the migration needs next in {@code row} until it ended; returns what the source's
     * report must then name.
     */
    private String stall(Row row, String to) throws Exception {
        switch (row) {
            case CHECK, IN_PREPARE, CLEANUP -> {
                long agent = lab.agent(to).pidOrZero();
                lab.freeze(agent);
                stalled.add(agent);
                return "agent '" + to + "'";
            }
            case RAM_COPY -> {
                // The row's hold stopped the incoming QEMU already: it stays stopped.
                stalled.addAll(frozen);
                frozen.clear();
                return "pid " + stalled.get(0);
            }
            case PREPARE, PRE_SUSPEND, POST_SUSPEND, SYNC -> {
                List<Long> qemus = lab.qemusOf(to);
                if (qemus.size() != 1) {
                    throw new IllegalStateException("expected one incoming QEMU on " + to + ", found " + qemus);
                }
                lab.freeze(qemus.get(0));
                stalled.add(qemus.get(0));
                return "pid " + qemus.get(0);
            }
            default -> throw new IllegalStateException("Invalid row for a stall: " + row);
        }
    }

    private void continueStalled() throws Exception {
        for (long pid : stalled) {
            lab.resume(pid);
        }
        stalled.clear();
    }

    /** A stall ends the migration (completed only when the source no longer needed what stalled) naming it. */
    private static List<String> stallExpectations(Row row, JsonNode status, String who) {
        List<String> out = new ArrayList<>();
        String result = status.path("phase").asText();
        if (row == Row.CLEANUP) {
            if (!result.equals("completed")) {
                out.add("a destination agent stopped in cleanup must not matter to the source, yet it ended " + result);
            }
            return out;
        }
        if (result.equals("completed")) {
            out.add("the migration completed although " + who + " was stopped in " + row.label);
        }
        String report = status.path("report").toString();
        if (!report.contains(who)) {
            out.add("the report does not name the stopped " + who + ": " + abbreviate(report));
        }
        if (report.contains("did not converge")) {
            out.add("the stall was reported as a copy that did not converge");
        }
        return out;
    }

    /** A continued destination finishes what it had queued (a prepare, then its abort): nothing stays on {@code to}. */
    private List<String> awaitNothingLeftOn(String to) {
        try {
            await("nothing of the migration stays on " + to).atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(250)).until(() -> lab.processesIn(lab.agent(to).runRoot()).isEmpty());
            return List.of();
        } catch (ConditionTimeoutException e) {
            return List.of("processes still run on " + to + " (the host without the VM) after the stopped process"
                    + " was continued: " + lab.processesIn(lab.agent(to).runRoot()));
        }
    }

    /**
     * A source whose abort the destination did not confirm (it was stopped, or unreachable) ends
     * the migration with its owner unknown and asks again every 5 s until the destination answers;
     * only then does it list the VM as running again. The invariants are about the settled state.
     */
    private void awaitSettled() {
        try {
            await("neither host lists the VM as migrating").atMost(SETTLE_LIMIT).pollInterval(Duration.ofMillis(250))
                    .until(() -> !lab.api(Lab.A).vmState(MatrixGuest.VM).equals("migrating")
                            && !lab.api(Lab.B).vmState(MatrixGuest.VM).equals("migrating"));
        } catch (ConditionTimeoutException e) {
            // The invariants say what is wrong.
        }
    }

    /** Gives every filled data directory its room back. */
    private void unfill() throws java.io.IOException {
        for (SmallDisk disk : disks.values()) {
            disk.unfill();
        }
    }

    private void releaseHolds(String to) throws Exception {
        lab.tool().release();
        lab.linkTo(to).release();
        lab.qemuHold(to).release();
        for (long pid : frozen) {
            lab.resume(pid);
        }
        frozen.clear();
    }

    /**
     * Follows the migration on the source until it ended. A restarted source may need a moment to
     * recover the migration from its journal, so an ended one without a final result is given
     * {@link #RECOVERY_GRACE} more before the cell looks at it. Returns the last status seen.
     */
    private JsonNode awaitEnd(String from, String id) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        AtomicLong endedAt = new AtomicLong();
        try {
            await("migration " + id + " ends on " + from).atMost(MIGRATION_LIMIT).pollInterval(Duration.ofMillis(200))
                    .ignoreExceptions().until(() -> {
                        Api.Reply r = lab.api(from).get("/v1/migrations/" + id);
                        last.set(r.body());
                        if (r.status() != 200 || r.body().path("running").asBoolean(true)) {
                            return false;
                        }
                        endedAt.compareAndSet(0, System.nanoTime());
                        return FINAL.contains(r.text("phase")) || System.nanoTime() - endedAt.get() > RECOVERY_GRACE.toNanos();
                    });
        } catch (ConditionTimeoutException e) {
            // The expectations say that it still runs.
        }
        return last.get() == null ? MissingNode.getInstance() : last.get();
    }

    private boolean ended(String from, String id) throws Exception {
        Api.Reply r = lab.api(from).get("/v1/migrations/" + id);
        return r.status() == 200 && !r.body().path("running").asBoolean(true) && FINAL.contains(r.text("phase"));
    }

    /** What the fault itself must lead to, beyond the invariants every cell checks. */
    private static List<String> expectations(Row row, Fault fault, JsonNode status, Integer cancelStatus) {
        List<String> out = new ArrayList<>();
        String result = status.path("phase").asText();
        if (status.path("running").asBoolean(false)) {
            out.add("the migration still runs after " + MIGRATION_LIMIT.toMinutes() + " min (phase " + result + ")");
            return out;
        }
        JsonNode report = status.path("report");
        if (fault.toolSucceeds()) {
            if (!result.equals("completed")) {
                out.add("the tool succeeded at " + row.toolStep + " but the migration ended " + result);
            }
            if (report.toString().length() > 64 * 1024) {
                out.add("the report holds " + report.toString().length() + " characters of the tool's output");
            }
            if (fault == Fault.TOOL_JSON_FLOOD && !report.path("notes").toString().contains("more messages dropped")) {
                out.add("the report does not say how many of the tool's messages were dropped");
            }
        } else if (fault.isToolFault()) {
            if (result.equals("completed")) {
                out.add("the migration completed although the tool failed at " + row.toolStep);
            }
            if (!report.toString().contains("fpga0")) {
                out.add("the report does not name the failing device fpga0: " + abbreviate(report.toString()));
            }
            if (report.toString().length() > 64 * 1024) {
                out.add("the report holds " + report.toString().length() + " characters of the tool's output");
            }
        }
        if (fault == Fault.CANCEL) {
            boolean pastNoReturn = row == Row.SWITCHOVER || row == Row.CLEANUP;
            int wanted = pastNoReturn ? 409 : 200;
            if (cancelStatus == null || cancelStatus != wanted) {
                out.add("cancel answered HTTP " + cancelStatus + ", expected " + wanted);
            }
            String resultWanted = pastNoReturn ? "completed" : "rolled-back";
            if (!result.equals(resultWanted)) {
                out.add("a cancel in " + row.label + " ended " + result + ", expected " + resultWanted);
            }
        }
        return out;
    }

    /** The result, the failure and any failed recovery step, as the source reported them. */
    private static String reportSummary(JsonNode status) {
        JsonNode report = status.path("report");
        if (report.isMissingNode() || report.isNull()) {
            return "none (phase " + status.path("phase").asText("?") + ")";
        }
        StringBuilder s = new StringBuilder(report.path("result").asText("?"));
        JsonNode f = report.path("failure");
        if (f.isObject()) {
            s.append(", failure at ").append(f.path("phase").asText()).append(": ").append(f.path("message").asText());
        }
        for (JsonNode r : report.path("recoveryFailures")) {
            s.append(", recovery failed at ").append(r.path("step").asText()).append(": ").append(r.path("message").asText());
        }
        return abbreviate(s.toString());
    }

    static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }
}
