package dev.ferry.crash;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** One batch of crash runs, as a row of {@code docs/crash-runs.md} and its failing runs. */
record Batch(String finished, String commit, String seed, int runs, int violations, double secondsPerRun, long migrationMs,
             int calibrations,
             Map<Victim, Integer> victims, Map<String, Integer> landed, List<String> failures, String disk, int rebooted) {

    /** @param durations every clean migration's duration in ms; the row shows their median */
    static Batch of(List<RunResult> results, long batchSeed, Long replay, List<Long> durations, String diskVerdict, String commit) {
        List<Long> sorted = durations.stream().sorted().toList();
        long migrationMs = sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
        Map<Victim, Integer> victims = new EnumMap<>(Victim.class);
        for (Victim v : Victim.values()) {
            victims.put(v, 0);
        }
        Map<String, Integer> landed = new TreeMap<>();
        long millis = 0;
        for (RunResult r : results) {
            victims.merge(r.plan().victim(), 1, Integer::sum);
            landed.merge(r.landed().startsWith("ended:") ? "after the end" : r.landed(), 1, Integer::sum);
            millis += r.millis();
        }
        List<String> failures = results.stream().filter(r -> !r.passed())
                .map(r -> r.line() + "; replay with `-Dferry.crash.seed=" + r.plan().seed() + "`").collect(Collectors.toList());
        boolean diskOk = diskVerdict.startsWith("pass");
        if (!diskOk) {
            failures.add("the data disk after the batch: " + diskVerdict);
        }
        String finished = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm"));
        return new Batch(finished, commit, replay != null ? "replay of " + replay : Long.toString(batchSeed), results.size(),
                failures.size(), millis / 1000.0 / results.size(), migrationMs, durations.size(), victims, landed, List.copyOf(failures),
                diskVerdict, (int) results.stream().filter(RunResult::rebooted).count());
    }

    /** The batch's row in the doc's table; {@link CrashRunsDoc} reads runs and violations back from columns 4 and 5. */
    String row() {
        String v = victims.values().stream().map(String::valueOf).collect(Collectors.joining(" / "));
        String where = landed.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
        return "| " + finished + " | " + commit + " | " + seed + " | " + runs + " | " + violations + " | "
                + String.format("%.1f", secondsPerRun) + " | " + String.format("%.1f s (median of %d)", migrationMs / 1000.0, calibrations) + " | " + v
                + " | " + where + " | " + rebooted + " | " + disk.replace("|", "\\|") + " |";
    }

    /** The failing runs as list items naming the batch. */
    List<String> failureItems() {
        return failures.stream().map(f -> "- " + finished + ", " + commit + ", batch " + seed + ": " + f.replace("\n", " ")).toList();
    }

    String summary() {
        return "crash harness: " + runs + " run(s), " + violations + " violation(s), " + String.format("%.1f", secondsPerRun)
                + " s per run, a migration " + migrationMs + " ms; landed " + landed + "; victims " + victims + "; disk " + disk;
    }
}
