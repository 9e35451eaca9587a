package dev.ferry.conformance;

import dev.ferry.device.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * One migration the check runs: everything succeeds, or one thing fails at one step. Together the
 * scenarios make the production sequence produce every recovery a tool can be asked for.
 *
 * @param failing what fails
 * @param step    the step at which it fails; null when nothing or QEMU fails
 */
record Scenario(Failing failing, Step step) {

    /** What fails in a scenario. */
    enum Failing {
        /** Nothing: the migration completes. */
        NOTHING,
        /** The device spec'd before the tool's. */
        NEIGHBOUR_BEFORE,
        /** The device spec'd after the tool's. */
        NEIGHBOUR_AFTER,
        /** The tool's own step, after the tool did its work and exited 0 (as if it crashed at its very end). */
        TOOL,
        /** QEMU, after every device finished sync: the last moment a migration can still roll back. */
        QEMU_AFTER_SYNC
    }

    /** Every scenario, the completed migration first. */
    static List<Scenario> all() {
        List<Scenario> all = new ArrayList<>();
        all.add(new Scenario(Failing.NOTHING, null));
        for (Step step : List.of(Step.PRE_SUSPEND, Step.POST_SUSPEND, Step.SYNC)) {
            all.add(new Scenario(Failing.NEIGHBOUR_BEFORE, step));
            all.add(new Scenario(Failing.NEIGHBOUR_AFTER, step));
            all.add(new Scenario(Failing.TOOL, step));
        }
        all.add(new Scenario(Failing.QEMU_AFTER_SYNC, null));
        return all;
    }

    boolean completes() {
        return failing == Failing.NOTHING;
    }

    /** Where the neighbour {@code before} (true) or after the tool fails, if it does. */
    Step neighbourFailsAt(boolean before) {
        Failing which = before ? Failing.NEIGHBOUR_BEFORE : Failing.NEIGHBOUR_AFTER;
        return failing == which ? step : null;
    }

    Step toolFailsAt() {
        return failing == Failing.TOOL ? step : null;
    }

    String title() {
        return switch (failing) {
            case NOTHING -> "a migration that completes";
            case NEIGHBOUR_BEFORE -> "the device before the tool's fails at " + step.toolName();
            case NEIGHBOUR_AFTER -> "the device after the tool's fails at " + step.toolName();
            case TOOL -> "the tool's " + step.toolName() + " exits 0, then counts as failed";
            case QEMU_AFTER_SYNC -> "QEMU fails after every device's sync";
        };
    }
}
