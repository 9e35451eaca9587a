package dev.ferry.fault;

import java.util.List;

/**
 * What one cell of the matrix found.
 *
 * @param status     pass, FAIL or n/a (or "not run" when a subset ran)
 * @param detail     for a pass the migration's result, for a failure the broken invariants, for n/a why
 * @param reset      whether the suite had to kill everything and boot the guest again afterwards
 */
record CellResult(Row row, Fault fault, Status status, String detail, boolean reset, long millis) {

    enum Status { PASS, FAIL, NOT_APPLICABLE, NOT_RUN }

    static CellResult notApplicable(Row row, Fault fault, String why) {
        return new CellResult(row, fault, Status.NOT_APPLICABLE, why, false, 0);
    }

    static CellResult notRun(Row row, Fault fault) {
        return new CellResult(row, fault, Status.NOT_RUN, "", false, 0);
    }

    static CellResult of(Row row, Fault fault, String outcome, List<String> violations, boolean reset, long millis) {
        return violations.isEmpty()
                ? new CellResult(row, fault, Status.PASS, outcome, reset, millis)
                : new CellResult(row, fault, Status.FAIL, String.join("; ", violations), reset, millis);
    }

    /** The table cell's text. */
    String cell() {
        String text = switch (status) {
            case PASS -> "pass (" + detail + ")";
            case FAIL -> "FAIL: " + detail;
            case NOT_APPLICABLE -> "n/a: " + detail;
            case NOT_RUN -> "not run (subset)";
        };
        return reset ? text + " [reset: guest rebooted]" : text;
    }
}
