package dev.ferry.bench;

import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationReport.PhaseTiming;
import dev.ferry.migration.MigrationReport.StepTiming;
import java.util.List;

/** One completed Ferry migration, labelled, with the figures the benchmarks print read off its report. */
record FerryRun(String variant, int round, String from, String to, MigrationReport report) {

    Long downtimeMs() {
        return report.downtimeMs();
    }

    /**
     * QEMU's downtime, or null when the report holds 0: QEMU marks a migration completed before it
     * computes the downtime, and a query-migrate in between reads 0, which is no measurement.
     */
    Long qemuDowntimeMs() {
        Long ms = report.qemuDowntimeMs();
        return ms == null || ms == 0 ? null : ms;
    }

    /** QEMU's downtime for printing: a 0 read too early says so. */
    String qemuDowntimeText() {
        Long ms = report.qemuDowntimeMs();
        return ms != null && ms == 0 ? "0 ms (read before QEMU computed it; left out)" : Samples.ms(ms);
    }

    long totalMs() {
        return report.totalMs();
    }

    /** How long {@code phase} (its wire name, e.g. {@code post-suspend}) took; null if it did not run. */
    Long phaseMs(String phase) {
        return report.phases().stream().filter(p -> p.phase().equals(phase)).map(PhaseTiming::durationMs).findFirst().orElse(null);
    }

    /** The sum of {@code phases}' durations; null if any of them did not run. */
    Long phasesMs(List<String> phases) {
        long sum = 0;
        for (String p : phases) {
            Long ms = phaseMs(p);
            if (ms == null) {
                return null;
            }
            sum += ms;
        }
        return sum;
    }

    /**
     * The durations of {@code step} (its tool name, e.g. {@code post-suspend}) for the devices of
     * {@code type}. A concurrent step's duration runs from the common start until the coordinator
     * collected that device's result.
     */
    List<Long> deviceStepMs(String type, String step) {
        return report.deviceSteps().stream().filter(s -> s.type().equals(type) && s.step().equals(step))
                .map(StepTiming::durationMs).toList();
    }
}
