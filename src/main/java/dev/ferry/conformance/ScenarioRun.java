package dev.ferry.conformance;

import dev.ferry.migration.Result;
import java.util.List;

/**
 * One scenario as it ran: how the migration ended, every call of the tool in order, and the
 * problems the scenario showed beyond those of single calls.
 */
record ScenarioRun(Scenario scenario, Result result, List<CheckedCall> calls, List<Finding> problems) {

    /** A problem: one line that holds for every scenario showing it, and what this scenario showed. */
    record Finding(String problem, String detail) {}

    ScenarioRun {
        calls = List.copyOf(calls);
        problems = List.copyOf(problems);
    }

    /** Whether the tool refused at step 0, which leaves nothing else to check. */
    boolean refused() {
        return result == Result.REFUSED;
    }
}
