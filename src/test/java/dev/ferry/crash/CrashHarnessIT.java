package dev.ferry.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.lab.Api;
import dev.ferry.lab.Invariants;
import dev.ferry.lab.Lab;
import dev.ferry.lab.MatrixGuest;
import dev.ferry.proc.ProcessRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The randomized crash harness: a batch of runs, each a live migration of the one shared guest
 * with a SIGKILL at a uniformly random moment (see {@link CrashPlan} and {@link CrashRun}),
 * followed by every invariant of the fault matrix; at the end the guest is stopped and its data
 * disk checked for lost records.
 *
 * <p>A migration's duration is measured, not guessed: before the runs the batch migrates the guest
 * three times without a fault (the first also warms up the agents' JVMs), and again before every
 * {@value #RECALIBRATE_EVERY}th run, since the machine's load changes; each clean migration's time
 * from the source's 202 to its final result is a sample, and a run's moment is its seed's fraction
 * of the median of the last {@value #WINDOW} samples.
 *
 * <p>Properties: {@code ferry.crash.runs} (3 unless told; the {@code crash-runs} profile asks for
 * 100), {@code ferry.crash.seed} replays the one run with that seed, {@code ferry.crash.batchSeed}
 * fixes the batch's sequence of run seeds (fresh from the clock otherwise), and
 * {@code ferry.crash.writeDoc=true} (set by the profile) adds the batch to {@code docs/crash-runs.md};
 * every other batch, replays included, writes {@code target/crash-runs.md} alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrashHarnessIT {
    private static final Path BASE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    private static final Long REPLAY = Long.getLong("ferry.crash.seed");
    private static final int RUNS = REPLAY != null ? 1 : Integer.getInteger("ferry.crash.runs", 3);
    private static final long BATCH_SEED = Long.getLong("ferry.crash.batchSeed", System.nanoTime());
    private static final int RECALIBRATE_EVERY = 10;
    private static final int WINDOW = 5;
    private static final boolean WRITE_DOC = REPLAY == null && Boolean.getBoolean("ferry.crash.writeDoc");

    private final List<RunResult> results = new ArrayList<>();
    private final ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "crash harness killer");
        t.setDaemon(true);
        return t;
    });
    private Lab lab;
    private MatrixGuest guest;
    /** Every clean migration's duration, in ms, in the order measured. */
    private final List<Long> durations = new ArrayList<>();
    /** The commit the batch runs on, read before the first run. */
    private String commit = "unknown (the batch did not start)";
    private String diskVerdict = "not verified (the batch stopped before the end)";

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        lab = Lab.in(root).separateJvms().linkProxies().logsIn(BASE.resolve("target").resolve("crash-run-logs"))
                .fakeTool(MatrixGuest.TOOL_KIND, Map.of("check", "20s", "pre-suspend", "20s", "post-suspend", "20s",
                        "sync", "20s", "recover", "10s"))
                .start();
        guest = MatrixGuest.boot(lab);
        commit = Commit.describe(BASE);
        for (int i = 0; i < 3; i++) {
            calibrate();
        }
        System.out.printf("crash harness: batch seed %d, %d run(s), a migration takes %d ms%n", BATCH_SEED, RUNS, durationMs());
    }

    /**
     * One migration of the guest without a fault, checked against every invariant; its duration
     * becomes a sample. A calibration that fails boots the guest again and fails the run it preceded.
     */
    private void calibrate() throws Exception {
        String from = guest.owner();
        String to = lab.other(from);
        String id = lab.api(from).startMigration(CrashRun.request(to));
        long start = System.nanoTime();
        Api.Reply end = lab.api(from).awaitMigration(id, CrashRun.MIGRATION_LIMIT);
        long ms = (System.nanoTime() - start) / 1_000_000;
        List<String> broken = new Invariants(lab, guest).check(from, to, id);
        if (!"completed".equals(end.text("phase")) || !broken.isEmpty()) {
            guest.reset();
            throw new IllegalStateException("the calibration migration " + id + " from " + from + " without a fault ended "
                    + end.text("phase") + ": " + broken);
        }
        durations.add(ms);
    }

    /** The median of the last {@link #WINDOW} clean migrations' durations. */
    private long durationMs() {
        List<Long> recent = new ArrayList<>(durations.subList(Math.max(0, durations.size() - WINDOW), durations.size()));
        Collections.sort(recent);
        return recent.get(recent.size() / 2);
    }

    @TestFactory
    Stream<DynamicTest> runs() {
        Random seeds = new Random(BATCH_SEED);
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 1; i <= RUNS; i++) {
            CrashPlan plan = CrashPlan.from(REPLAY != null ? REPLAY : seeds.nextLong());
            int n = i;
            tests.add(DynamicTest.dynamicTest("run " + n + ", " + plan, () -> run(n, plan)));
        }
        tests.add(DynamicTest.dynamicTest("no acknowledged disk record is lost", this::diskKeepsEveryRecord));
        return tests.stream();
    }

    private void run(int n, CrashPlan plan) throws Exception {
        if (n > 1 && (n - 1) % RECALIBRATE_EVERY == 0) {
            calibrate();
        }
        RunResult r = new CrashRun(lab, guest, killer).run(plan, durationMs());
        results.add(r);
        System.out.printf("crash run %d/%d %s%n", n, RUNS, r.line());
        if (!r.passed()) {
            fail("crash run " + r.line() + "; replay with -Dferry.crash.seed=" + plan.seed());
        }
    }

    private void diskKeepsEveryRecord() throws Exception {
        lab.api(guest.owner()).post("/v1/vms/" + MatrixGuest.VM + "/destroy", null);
        guest.harvestWrites();
        DiskReport disk = DiskVerifier.verify(guest.disk(), new ProcessRunner());
        boolean ok = disk.clean() && disk.highestContiguous() >= guest.highestWrote();
        diskVerdict = (ok ? "pass" : "FAIL") + " (highest acknowledged record " + guest.highestWrote() + ", on the disk "
                + disk.highestContiguous() + (disk.clean() ? ", no gap or corrupt record)" : ", " + disk + ")");
        assertThat(disk.clean()).as("no gap or corrupt record: %s", disk).isTrue();
        assertThat(disk.highestContiguous()).as("every acknowledged record is on the disk").isGreaterThanOrEqualTo(guest.highestWrote());
    }

    @AfterAll
    void writeTheRecord() throws Exception {
        killer.shutdownNow();
        try {
            if (!results.isEmpty()) {
                Batch batch = Batch.of(results, BATCH_SEED, REPLAY, durations, diskVerdict, commit);
                Path out = WRITE_DOC ? BASE.resolve("docs").resolve("crash-runs.md") : BASE.resolve("target").resolve("crash-runs.md");
                CrashRunsDoc.addTo(out, batch, WRITE_DOC);
                System.out.println(batch.summary());
                System.out.println("crash runs written to " + out);
            }
        } finally {
            if (lab != null) {
                lab.close();
            }
        }
    }
}
