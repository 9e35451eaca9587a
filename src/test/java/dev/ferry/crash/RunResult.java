package dev.ferry.crash;

import java.util.List;

/**
 * What one run found.
 *
 * @param landed    the source's phase when the kill landed ({@code ended:<result>} when the migration had ended)
 * @param killed    what was killed ({@code nothing} when a QEMU run found no QEMU that did not hold the guest)
 * @param outcome   the migration's result on the source after recovery
 * @param problems  every broken invariant; empty when the run passed
 * @param rebooted  whether the guest had to be booted again afterwards (always with a problem)
 */
record RunResult(CrashPlan plan, long momentMs, String landed, String killed, String outcome, List<String> problems,
                 boolean rebooted, long millis) {

    boolean passed() {
        return problems.isEmpty();
    }

    String line() {
        return plan + String.format(" (%d ms): landed in %s, killed %s, ended %s, %s in %.1f s", momentMs, landed, killed,
                outcome, passed() ? "pass" : "FAIL: " + String.join("; ", problems), millis / 1000.0)
                + (rebooted ? " [guest rebooted]" : "");
    }
}
