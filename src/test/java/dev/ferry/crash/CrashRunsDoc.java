package dev.ferry.crash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code docs/crash-runs.md}: the running total at the top, how a run works, one table row per
 * batch, every failing run, and a last section, "What fixed the failures", that is written by hand
 * and kept as it is. Each batch reads the file back (its rows, failing runs and that section) and
 * writes it again with its own row added.
 */
final class CrashRunsDoc {
    static final String BATCHES = "## Batches";
    static final String FAILURES = "## Failing runs";
    static final String FIXES = "## What fixed the failures";
    private static final String HEADER = "| finished (UTC) | commit | batch seed | runs | violations | s per run | a migration"
            + " (median of the clean ones) | victims: source agent / destination agent / both agents / one QEMU | where the kills landed"
            + " (the source's phase: runs) | guest rebooted | data disk after the batch |";

    /** A batch's row starts with the date it finished; the header and separator do not. */
    private static final Pattern ROW = Pattern.compile("\\| \\d{4}-\\d{2}-\\d{2} ");

    private final List<String> rows = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private String fixes = "No run has failed yet.\n";

    private CrashRunsDoc() {
    }

    /** Adds {@code batch} to the doc at {@code file} (creating it), keeping what it held. */
    static void addTo(Path file, Batch batch, boolean theDoc) throws IOException {
        CrashRunsDoc doc = read(file);
        doc.rows.add(batch.row());
        doc.failures.addAll(batch.failureItems());
        Files.createDirectories(file.getParent());
        Files.writeString(file, doc.markdown(theDoc));
    }

    static CrashRunsDoc read(Path file) throws IOException {
        CrashRunsDoc doc = new CrashRunsDoc();
        if (!Files.exists(file)) {
            return doc;
        }
        String section = "";
        StringBuilder fixes = new StringBuilder();
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("## ")) {
                section = line;
                continue;
            }
            if (section.equals(BATCHES) && ROW.matcher(line).lookingAt()) {
                doc.rows.add(line);
            } else if (section.equals(FAILURES) && line.startsWith("- ")) {
                doc.failures.add(line);
            } else if (section.equals(FIXES)) {
                fixes.append(line).append('\n');
            }
        }
        if (!fixes.toString().isBlank()) {
            doc.fixes = fixes.toString().strip() + "\n";
        }
        return doc;
    }

    /** Runs and violations over every row. */
    long[] totals() {
        long runs = 0;
        long violations = 0;
        for (String row : rows) {
            String[] cells = row.split(" \\| ");
            runs += Long.parseLong(cells[3].strip());
            violations += Long.parseLong(cells[4].strip());
        }
        return new long[] {runs, violations};
    }

    String markdown(boolean theDoc) {
        long[] t = totals();
        StringBuilder md = new StringBuilder("# Randomized crash runs\n\n");
        md.append("Written by `dev.ferry.crash.CrashHarnessIT`").append(theDoc
                ? " in the `crash-runs` profile (`mvn -B verify -Pcrash-runs -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false`,"
                        + " 100 runs unless `-Dferry.crash.runs=N`): each batch adds its row. Do not edit by hand, except the"
                        + " last section.\n\n"
                : " outside the `crash-runs` profile (plain `mvn verify`, or a replay): these batches are not in"
                        + " `docs/crash-runs.md`.\n\n");
        // A run the harness itself could not carry out counts as failed, but it broke no invariant of Ferry's.
        long harness = failures.stream().filter(f -> f.contains(CrashRun.HARNESS_ERROR)).count();
        md.append("**In total: ").append(t[0]).append(" runs in ").append(rows.size()).append(" batches, ").append(t[1])
                .append(" failed: ").append(t[1] - harness).append(" invariant violations");
        if (harness > 0) {
            md.append(" and ").append(harness).append(" run").append(harness == 1 ? "" : "s")
                    .append(" the harness itself could not carry out (below, with what fixed them)");
        }
        md.append(".**\n\n");
        md.append(legend());
        md.append(BATCHES).append("\n\n").append(HEADER).append('\n').append("|---".repeat(11)).append("|\n");
        rows.forEach(r -> md.append(r).append('\n'));
        md.append('\n').append(FAILURES).append("\n\n");
        if (failures.isEmpty()) {
            md.append("None.\n");
        }
        failures.forEach(f -> md.append(f).append('\n'));
        md.append('\n').append(FIXES).append("\n\n").append(fixes);
        return md.toString();
    }

    private static String legend() {
        return "## How a run works\n\n"
                + "Two agent processes (`host-a`, `host-b`) and one test guest (256 MiB, a shared qcow2 data disk, a user-mode"
                + " NIC, a swtpm vTPM, and an external device run by a fake tool that succeeds), the fault matrix's guest."
                + " A migration's duration D is measured: the batch migrates the guest three times without a fault before"
                + " the first run (the first also warms up the agents' JVMs) and once more before every 10th run, since"
                + " the machine's load changes; each clean migration's time from the source's 202 to its final result is"
                + " a sample (checked against every invariant too), and D is the median of the last five."
                + " The first batch used its first three samples alone (its column shows no count)."
                + " Then each run:\n\n"
                + "1. draws its plan from its seed (`java.util.Random`): the victim, uniformly among the four below, and a"
                + " fraction f, uniformly in [0, 1); the batch's seeds come from the batch seed;\n"
                + "2. starts a migration of the guest from wherever it runs to the other host, and SIGKILLs the victim f x D"
                + " after the source accepted it (the kill is scheduled on an executor; everything after it waits on"
                + " conditions). A kill may land after the migration ended when this migration was faster than D; the"
                + " table counts those as \"after the end\";\n"
                + "3. restarts every agent it killed on the same data directory and port, waits until the migration has"
                + " a final result on the source (3 min at most), and checks the fault matrix's invariants"
                + " (`dev.ferry.lab.Invariants`): exactly one agent lists the guest running and exactly one QEMU runs for it,"
                + " on that host; it ticks there and prints the PCRs it booted with; the other host keeps no VM record, run"
                + " directory, image directory, QEMU, swtpm or open TCP port; the migration is final on the source and on"
                + " the destination if it knows it;\n"
                + "4. a run that broke an invariant is a violation; the harness then kills everything, wipes both data"
                + " directories and boots the guest again on host-a from the same disk, so the next run starts clean.\n\n"
                + "The victims: the source agent; the destination agent; both agents, one right after the other (the seed"
                + " picks who first); or one QEMU: the one that does not hold the guest. Killing the QEMU that holds the"
                + " guest's only copy is a guest crash, not a migration fault, so the harness never does it: while the"
                + " source has not journaled the switchover it kills the destination's incoming QEMU (which it stops with"
                + " SIGSTOP before it reads the source's phase, so the destination cannot take the guest in between), and"
                + " from the switchover on the source's finished QEMU. A QEMU kill early in check or prepare, before any"
                + " incoming QEMU exists, or after the migration ended, kills nothing; the run still checks every invariant.\n\n"
                + "At the end of a batch the guest is stopped and its data disk checked: every record any serial log showed"
                + " as written (acknowledged) must be on the disk, without gaps or corrupt records; a failure there counts"
                + " as one more violation.\n\n"
                + "Replay one run with `-Dferry.crash.seed=S` (the seed is printed for every run and listed below for every"
                + " failure): the same victim and fraction, of the duration the replaying batch calibrates."
                + " Plain `mvn verify` runs 3 runs with a fresh batch seed and writes `target/crash-runs.md`, not this file.\n\n";
    }
}
