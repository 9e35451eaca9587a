package dev.ferry.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrashRunsDocTest {

    private static RunResult run(long seed, Victim victim, String landed, List<String> problems) {
        return new RunResult(new CrashPlan(seed, victim, 0.5, true), 2000, landed, "the source agent", "rolled-back",
                problems, !problems.isEmpty(), 9000);
    }

    private static Batch batch(List<RunResult> runs, String disk) {
        return Batch.of(runs, 11, null, List.of(4000L, 3000L, 5000L), disk, "abc1234");
    }

    @Test
    void addTo_secondBatch_keepsTheFirstAndAddsUpTheTotal(@TempDir Path dir) throws Exception {
        Path doc = dir.resolve("crash-runs.md");
        CrashRunsDoc.addTo(doc, batch(List.of(run(1, Victim.SOURCE_AGENT, "prepare", List.of()),
                run(2, Victim.QEMU, "sync", List.of("no running copy"))), "pass (all there)"), true);
        CrashRunsDoc.addTo(doc, batch(List.of(run(3, Victim.DEST_AGENT, "ended:completed", List.of())), "pass (all there)"), true);

        String md = Files.readString(doc);
        assertThat(md).contains("**In total: 3 runs in 2 batches, 1 failed: 1 invariant violations.**");
        assertThat(md).contains("replay with `-Dferry.crash.seed=2`").contains("no running copy");
        assertThat(CrashRunsDoc.read(doc).totals()).containsExactly(3, 1);
    }

    @Test
    void addTo_countsARunTheHarnessCouldNotCarryOutApartFromViolations(@TempDir Path dir) throws Exception {
        Path doc = dir.resolve("crash-runs.md");
        CrashRunsDoc.addTo(doc, batch(List.of(run(1, Victim.SOURCE_AGENT, "prepare",
                List.of(CrashRun.HARNESS_ERROR + ": java.io.IOException: SIGSTOP failed")),
                run(2, Victim.QEMU, "sync", List.of("no running copy"))), "pass (all there)"), true);

        assertThat(Files.readString(doc)).contains("**In total: 2 runs in 1 batches, 2 failed: 1 invariant violations and"
                + " 1 run the harness itself could not carry out (below, with what fixed them).**");
    }

    @Test
    void addTo_keepsTheHandWrittenFixesSection(@TempDir Path dir) throws Exception {
        Path doc = dir.resolve("crash-runs.md");
        CrashRunsDoc.addTo(doc, batch(List.of(run(1, Victim.SOURCE_AGENT, "prepare", List.of())), "pass"), true);
        String withFix = Files.readString(doc).replace("No run has failed yet.", "Seed 2: fixed by journaling first.\n\nSecond line.");
        Files.writeString(doc, withFix);

        CrashRunsDoc.addTo(doc, batch(List.of(run(4, Victim.QEMU, "sync", List.of())), "pass"), true);

        assertThat(Files.readString(doc)).endsWith("Seed 2: fixed by journaling first.\n\nSecond line.\n");
    }

    @Test
    void of_aDiskThatLostRecords_countsAsOneMoreViolation() {
        Batch b = batch(List.of(run(1, Victim.BOTH_AGENTS, "ram-copy", List.of())), "FAIL (highest acknowledged record 9, on the disk 7)");
        assertThat(b.violations()).isEqualTo(1);
        assertThat(b.failureItems()).singleElement().asString().contains("the data disk after the batch");
    }
}
