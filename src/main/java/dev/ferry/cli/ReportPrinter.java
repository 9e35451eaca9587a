package dev.ferry.cli;

import dev.ferry.device.ToolCall;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.migration.RamProgress;
import dev.ferry.migration.ToolOutput;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;

/** Prints migration reports and progress for people. */
final class ReportPrinter {
    private static final int BAR = 30;

    private ReportPrinter() {}

    /** One line of progress, to be redrawn in place: phase, a bar of RAM copied, sizes and dirty rate. */
    static String progressLine(MigrationStatus s) {
        RamProgress ram = s.ram();
        StringBuilder line = new StringBuilder(String.format("%-13s", s.phase()));
        s.devices().forEach((id, f) -> line.append(String.format(" %s %3.0f%%", id, f * 100)));
        if (ram != null && ram.totalBytes() > 0) {
            int filled = (int) Math.round(ram.fraction() * BAR);
            line.append(" [").append("#".repeat(filled)).append(".".repeat(BAR - filled)).append("] ")
                    .append(String.format("%3.0f%%  sent %s, left %s, dirty %d pages/s, pass %d",
                            ram.fraction() * 100, mib(ram.transferredBytes()), mib(ram.remainingBytes()),
                            ram.dirtyPagesRate(), ram.passes()));
        }
        return line.toString();
    }

    static void print(MigrationReport r, PrintWriter out) {
        out.printf("migration %s of vm '%s' (%s): %s%n", r.id(), r.vm(), r.mode(), r.result().wireName());
        out.printf("  from %s to %s, started %s%n", r.source(), r.destination(), r.startedAt());
        out.printf("  total %d ms", r.totalMs());
        if (r.downtimeMs() != null) {
            out.printf(", downtime %d ms (pause to resume, as Ferry measured it)", r.downtimeMs());
        }
        if (r.qemuDowntimeMs() != null) {
            out.printf(", QEMU's own figure %d ms", r.qemuDowntimeMs());
        }
        out.println();
        if (r.ram() != null && r.ram().totalBytes() > 0) {
            out.printf("  RAM: %s sent of %s, %d passes%n", mib(r.ram().transferredBytes()), mib(r.ram().totalBytes()),
                    r.ram().passes());
        }
        if (!r.blockers().isEmpty()) {
            out.println("  blockers:");
            r.blockers().forEach(b -> out.println("    - " + b.describe()));
        }
        if (r.failure() != null) {
            out.println("  failure: " + r.failure().describe());
        }
        r.recoveryFailures().forEach(f -> out.println("  recovery failed: " + f.describe()));
        if (!r.phases().isEmpty()) {
            Table phases = new Table("PHASE", "START", "DURATION");
            r.phases().forEach(p -> phases.row(p.phase(), offset(r.startedAt(), p.startedAt()), p.durationMs() + " ms"));
            out.println();
            phases.print(out);
        }
        if (!r.deviceSteps().isEmpty()) {
            Table steps = new Table("DEVICE", "TYPE", "STEP", "START", "DURATION", "OUTCOME", "MESSAGE");
            r.deviceSteps().forEach(s -> steps.row(s.device(), s.type(), s.step(), offset(r.startedAt(), s.startedAt()),
                    s.durationMs() + " ms", s.outcome(), s.message() == null ? "" : s.message()));
            out.println();
            steps.print(out);
        }
        r.notes().forEach(n -> out.println("  note: " + n));
    }

    /** Every kept call of a tool: how it ended, then the tail of each stream it wrote to. */
    static void printToolOutput(ToolOutput t, PrintWriter out) {
        if (t.calls().isEmpty()) {
            out.println("migration " + t.migration() + ": no external tool ran (or its output was not kept on this host)");
            return;
        }
        if (t.dropped() > 0) {
            out.println("migration " + t.migration() + ": " + t.dropped() + " earlier calls dropped to keep the output small");
        }
        for (ToolCall c : t.calls()) {
            out.printf("== device %s, step %s: %s %s after %d ms (children ended with its %s)%n", c.device(), c.step(),
                    c.tool(), c.ended(), c.elapsedMs(), c.containment());
            stream(out, "stdout", c.stdout(), c.stdoutBytes());
            stream(out, "stderr", c.stderr(), c.stderrBytes());
        }
    }

    private static void stream(PrintWriter out, String name, String text, long total) {
        long kept = text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        out.println("-- " + name + (total > kept ? " (the last " + kept + " of " + total + " bytes)" : " (" + total + " bytes)"));
        if (!text.isEmpty()) {
            out.print(text.endsWith("\n") ? text : text + "\n");
        }
    }

    private static String offset(Instant start, Instant at) {
        return "+" + Duration.between(start, at).toMillis() + " ms";
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
