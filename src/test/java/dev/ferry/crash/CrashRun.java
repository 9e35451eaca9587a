package dev.ferry.crash;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.lab.Api;
import dev.ferry.lab.Invariants;
import dev.ferry.lab.Lab;
import dev.ferry.lab.MatrixGuest;
import dev.ferry.proc.Processes;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One crash run: migrates the guest from wherever it runs to the other host, SIGKILLs the plan's
 * victim when the plan's moment has passed since the source accepted the migration, restarts what
 * was killed, waits until the migration has settled on the source, and checks every invariant.
 * A run that broke something boots the guest again so the next run starts clean.
 *
 * <p>The moment is the only thing timed: the kill is scheduled on an executor, and every wait
 * after it is a condition.
 */
final class CrashRun {
    /** The source's phases in which the destination's incoming QEMU does not hold the guest yet. */
    static final Set<String> BEFORE_SWITCHOVER = Set.of("check", "prepare", "pre-suspend", "ram-copy", "post-suspend", "sync");
    static final Duration MIGRATION_LIMIT = Duration.ofMinutes(3);
    /** How a run the harness itself could not carry out is marked: it failed, but broke no invariant. */
    static final String HARNESS_ERROR = "the harness could not run";

    private final Lab lab;
    private final MatrixGuest guest;
    private final ScheduledExecutorService killer;

    CrashRun(Lab lab, MatrixGuest guest, ScheduledExecutorService killer) {
        this.lab = lab;
        this.guest = guest;
        this.killer = killer;
    }

    /** What the kill did: the source's phase when it landed, what died, and which agents to start again. */
    private record Kill(String landed, String what, List<String> agents) {}

    /** The migration request every run and the calibration send. */
    static Map<String, Object> request(String to) {
        return Map.of("vm", MatrixGuest.VM, "to", to, "stepDeadlineSeconds", 20, "convergeTimeoutSeconds", 60);
    }

    RunResult run(CrashPlan plan, long durationMs) throws Exception {
        long start = System.nanoTime();
        long moment = plan.momentMs(durationMs);
        String from = guest.owner();
        String to = lab.other(from);
        List<String> problems = new ArrayList<>();
        List<Long> frozen = new ArrayList<>();
        Kill kill = new Kill("?", "nothing", List.of());
        String outcome = "?";
        try {
            String id = lab.api(from).startMigration(request(to));
            kill = killer.schedule(() -> kill(plan, from, to, id, frozen), moment, TimeUnit.MILLISECONDS)
                    .get(MIGRATION_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            for (String host : kill.agents()) {
                lab.agent(host).start();
            }
            outcome = settle(from, id, problems);
            problems.addAll(new Invariants(lab, guest).check(from, to, id));
        } catch (Exception e) {
            problems.add(HARNESS_ERROR + ": " + e);
        } finally {
            for (long pid : frozen) {
                lab.resume(pid);
            }
            for (String host : lab.hosts()) {
                if (!lab.agent(host).isAlive()) {
                    lab.agent(host).start();
                }
            }
        }
        if (!problems.isEmpty()) {
            guest.reset();
        }
        return new RunResult(plan, moment, kill.landed(), kill.what(), outcome, List.copyOf(problems), !problems.isEmpty(),
                (System.nanoTime() - start) / 1_000_000);
    }

    private Kill kill(CrashPlan plan, String from, String to, String id, List<Long> frozen) throws Exception {
        return switch (plan.victim()) {
            case SOURCE_AGENT -> killAgents(from, id, List.of(from));
            case DEST_AGENT -> killAgents(from, id, List.of(to));
            case BOTH_AGENTS -> killAgents(from, id, plan.sourceFirst() ? List.of(from, to) : List.of(to, from));
            case QEMU -> killQemu(from, to, id, frozen);
        };
    }

    private Kill killAgents(String from, String id, List<String> hosts) throws Exception {
        String landed = phase(from, id);
        for (String host : hosts) {
            lab.agent(host).kill9();
        }
        String what = hosts.size() == 2 ? "both agents (" + hosts.get(0) + " first)"
                : (hosts.get(0).equals(from) ? "the source agent" : "the destination agent");
        return new Kill(landed, what, hosts);
    }

    /**
     * Kills the QEMU that does not hold the guest. The destination's QEMU is stopped (SIGSTOP) before
     * the source's phase is read: stopped, it cannot take the stream's end, so while the source has
     * not journaled the switchover the destination cannot own the guest and the kill lands before
     * the point of no return. From the switchover on, the source's finished QEMU is the one killed.
     */
    private Kill killQemu(String from, String to, String id, List<Long> frozen) throws Exception {
        List<Long> incoming = new ArrayList<>();
        for (long pid : lab.qemusOf(to)) {
            try {
                lab.freeze(pid);
            } catch (IOException e) {
                if (Processes.isAlive(pid)) {
                    throw e;
                }
                // Gone between the listing and the stop (QEMU's -daemonize parent exits once its child runs; an incoming QEMU being torn down exits).
                continue;
            }
            incoming.add(pid);
            frozen.add(pid);
        }
        String landed = phase(from, id);
        if (BEFORE_SWITCHOVER.contains(landed)) {
            if (incoming.isEmpty()) {
                return new Kill(landed, "nothing (no incoming QEMU yet)", List.of());
            }
            incoming.forEach(Processes::kill);
            return new Kill(landed, "the destination's incoming QEMU", List.of());
        }
        for (long pid : incoming) {
            lab.resume(pid);
        }
        frozen.clear();
        List<Long> finished = landed.startsWith("ended:") ? List.of() : lab.qemusOf(from);
        if (finished.isEmpty()) {
            return new Kill(landed, "nothing (no QEMU without the guest)", List.of());
        }
        finished.forEach(Processes::kill);
        return new Kill(landed, "the source's finished QEMU", List.of());
    }

    /** The source's phase while the migration runs, {@code ended:<result>} once it ended. */
    private String phase(String from, String id) {
        try {
            JsonNode s = lab.api(from).migration(id).body();
            String phase = s.path("phase").asText("?");
            return s.path("running").asBoolean(false) ? phase : "ended:" + phase;
        } catch (Exception e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    /** Waits until the migration has ended on the source with a result; returns that result. */
    private String settle(String from, String id, List<String> problems) {
        try {
            Api.Reply r = lab.api(from).awaitSettled(id, MIGRATION_LIMIT);
            return r.text("phase");
        } catch (ConditionTimeoutException e) {
            problems.add("the migration did not settle on the source (" + from + ") within " + MIGRATION_LIMIT.toMinutes() + " min");
            return "unsettled";
        }
    }
}
