package dev.ferry.device;

import java.util.Locale;

/**
 * The four steps every device takes part in, in order (the original proposal's steps 0 to 3).
 * {@code recover} is not a step: it undoes steps up to the last one a device completed.
 */
public enum Step {
    /** Step 0: can this device migrate at all? A quick verdict, no side effects. */
    CHECK(0),
    /** Step 1: whatever can be done while the guest still runs. */
    PRE_SUSPEND(1),
    /** Step 2: the guest is paused; work starts, concurrently for all devices. */
    POST_SUSPEND(2),
    /** Step 3: wait for what step 2 started; after it the guest resumes on the destination. */
    SYNC(3);

    /** The proposal's step number, which is also the order the steps run in. */
    private final int number;

    Step(int number) {
        this.number = number;
    }

    /** Whether this step runs after {@code other}. */
    public boolean isAfter(Step other) {
        return number > other.number;
    }

    /** The name external tools see: {@code check}, {@code pre-suspend}, ... */
    public String toolName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The step number of the historical xend tool command line. */
    public int xenNumber() {
        return number;
    }

    public static Step fromToolName(String s) {
        for (Step step : values()) {
            if (step.toolName().equals(s)) {
                return step;
            }
        }
        throw new IllegalArgumentException("unknown device step '" + s + "'; expected check, pre-suspend, post-suspend or sync");
    }
}
