package dev.ferry.model;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one run of SPIN's verifier ({@code pan}) found, read from its output: pan exits 0 even when
 * it finds errors, so its words are the only verdict.
 *
 * @param errors   pan's "errors: N"
 * @param states   states stored
 * @param seconds  pan's own elapsed time
 * @param complete false when the search was cut short (depth limit, memory): then 0 errors prove nothing
 * @param output   what pan printed, for the failure message
 */
record PanRun(int errors, long states, double seconds, boolean complete, String output) {
    private static final Pattern ERRORS = Pattern.compile("errors: (\\d+)");
    private static final Pattern STATES = Pattern.compile("(\\d+) states, stored");
    private static final Pattern SECONDS = Pattern.compile("pan: elapsed time ([0-9.e+]+) seconds");

    /** Reads pan's output; throws naming what is missing when it is not the output of a finished run. */
    static PanRun parse(String output) {
        Matcher errors = ERRORS.matcher(output);
        Matcher states = STATES.matcher(output);
        if (!errors.find() || !states.find()) {
            throw new IllegalStateException("pan's output has no error count or state count; it did not finish:\n"
                    + output);
        }
        Matcher seconds = SECONDS.matcher(output);
        double elapsed = seconds.find() ? Double.parseDouble(seconds.group(1)) : 0;
        // With no error found, an unfinished search means part of the state space was never seen.
        boolean cut = output.contains("max search depth too small") || output.contains("out of memory")
                || Integer.parseInt(errors.group(1)) == 0 && output.contains("Search not completed");
        return new PanRun(Integer.parseInt(errors.group(1)), Long.parseLong(states.group(1)), elapsed, !cut, output);
    }
}
