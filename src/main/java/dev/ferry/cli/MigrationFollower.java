package dev.ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.migration.Result;
import java.io.PrintWriter;
import java.time.Duration;

/** Follows a running migration (or save) to its end and prints that end; shared by migrate, save and the demo. */
final class MigrationFollower {
    /** How the progress is shown while it runs. */
    enum Progress {
        /** One line redrawn in place: on a terminal. */
        BAR,
        /** A line at each phase and every few seconds of copying: a log, a pipe, a CI job. */
        LINES,
        /** Nothing until the end: {@code --json}. */
        NONE;

        /** BAR on a terminal, LINES elsewhere, NONE for JSON output. */
        static Progress forOutput(boolean json) {
            return json ? NONE : System.console() != null ? BAR : LINES;
        }
    }

    private static final Duration POLL = Duration.ofMillis(200);
    /** How often a line of copy progress is printed without a terminal. */
    static final Duration LINE_EVERY = Duration.ofSeconds(5);

    private MigrationFollower() {}

    static MigrationStatus untilEnded(AgentClient client, MigrationStatus status, PrintWriter out, Progress progress)
            throws InterruptedException {
        String last = "";
        String lastPhase = null;
        long lastLineAt = 0;
        while (status.running()) {
            String line = ReportPrinter.progressLine(status);
            if (progress == Progress.BAR) {
                out.print("\r" + line + " ".repeat(Math.max(0, last.length() - line.length())));
                out.flush();
                last = line;
            } else if (progress == Progress.LINES) {
                long now = System.nanoTime();
                if (!status.phase().equals(lastPhase) || now - lastLineAt >= LINE_EVERY.toNanos()) {
                    out.println(line.stripTrailing());
                    out.flush();
                    lastPhase = status.phase();
                    lastLineAt = now;
                }
            }
            Thread.sleep(POLL.toMillis());
            status = client.get("/v1/migrations/" + status.id()).as(MigrationStatus.class);
        }
        if (progress == Progress.BAR && !last.isEmpty()) {
            out.println();
        }
        return status;
    }

    /** Prints the report (or its JSON) and gives the exit code: 0 when the migration did what was asked. */
    static int finish(MigrationStatus status, boolean json, PrintWriter out, AgentClient client, PrintWriter err) {
        if (status.report() == null) {
            err.println("ferry: migration " + status.id() + " ended without a report; see 'ferry migration show "
                    + status.id() + "' and the agent's log");
            err.flush();
            return CliFailure.AGENT_ERROR;
        }
        if (json) {
            out.println(toJson(status, client));
        } else {
            ReportPrinter.print(status.report(), out);
        }
        out.flush();
        Result result = status.report().result();
        return result == Result.COMPLETED || result == Result.CHECKED ? 0 : CliFailure.AGENT_ERROR;
    }

    private static String toJson(MigrationStatus status, AgentClient client) {
        try {
            return client.json().writeValueAsString(status.report());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Invalid report", e);
        }
    }
}
