package dev.ferry.conformance;

import dev.ferry.proc.ProcResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What {@code ferry tool check} found: every scenario with every call of the tool (argv, exit,
 * duration, what Ferry would show, what the tool left running), then each problem once, with the
 * scenarios it showed in. The tool conforms when there is no problem.
 */
public final class CheckReport {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private final CheckOptions options;
    private final List<ScenarioRun> runs;

    CheckReport(CheckOptions options, List<ScenarioRun> runs) {
        this.options = options;
        this.runs = List.copyOf(runs);
    }

    /** Every scenario that ran, in order. */
    List<ScenarioRun> runs() {
        return runs;
    }

    /** Whether the tool passed every scenario without a problem. */
    public boolean conforms() {
        return problems().isEmpty();
    }

    /**
     * Each problem once, in the order first seen, with the calls and scenarios it showed in:
     * {@code problem (at pre-suspend, sync; scenarios 1, 5)}.
     */
    public List<String> problems() {
        Map<String, Seen> seen = new LinkedHashMap<>();
        for (int i = 0; i < runs.size(); i++) {
            ScenarioRun run = runs.get(i);
            for (CheckedCall call : run.calls()) {
                if (call.failed() && !call.label().equals("check")) {
                    note(seen, call.label() + " failed: " + call.message(), null, i);
                }
                for (String p : call.problems()) {
                    note(seen, p, call.label(), i);
                }
            }
            if (run.refused()) {
                note(seen, "step 0 refused the device" + refusal(run)
                        + "; the check needs a tool that accepts it to try the other steps", null, i);
            }
            for (ScenarioRun.Finding f : run.problems()) {
                note(seen, f.problem(), null, i);
            }
        }
        if (runs.stream().allMatch(r -> r.calls().isEmpty())) {
            note(seen, "the tool was never called; is the class right for this dialect?", null, 0);
        }
        List<String> problems = new ArrayList<>();
        seen.forEach((text, where) -> problems.add(text + " (" + where + ")"));
        return problems;
    }

    /** The calls and scenarios one problem showed in. */
    private static final class Seen {
        final Set<String> calls = new LinkedHashSet<>();
        final Set<Integer> scenarios = new LinkedHashSet<>();

        @Override
        public String toString() {
            String in = "scenario" + (scenarios.size() > 1 ? "s " : " ")
                    + String.join(", ", scenarios.stream().map(n -> Integer.toString(n + 1)).toList());
            return calls.isEmpty() ? in : "at " + String.join(", ", calls) + "; " + in;
        }
    }

    private static void note(Map<String, Seen> seen, String text, String call, int scenario) {
        Seen where = seen.computeIfAbsent(text, t -> new Seen());
        if (call != null) {
            where.calls.add(call);
        }
        where.scenarios.add(scenario);
    }

    private static String refusal(ScenarioRun run) {
        return run.calls().stream().filter(c -> c.label().equals("check") && c.message() != null)
                .map(c -> ": " + c.message()).findFirst().orElse("");
    }

    /** Prints every scenario and call, the problems, and the verdict on the last line. */
    public void print(PrintWriter out) {
        out.println("Checking " + options.tool() + " as a " + options.dialect().wireName() + "-dialect tool for "
                + options.deviceClass() + " devices, " + options.mode().wireName() + " mode.");
        out.println("Each scenario runs a migration of VM '" + ToolCheck.VM + "' with the tool's device between"
                + " devices 'before' and 'after'.");
        for (int i = 0; i < runs.size(); i++) {
            ScenarioRun run = runs.get(i);
            out.println();
            out.println((i + 1) + ". " + run.scenario().title() + ": " + run.result().wireName());
            for (CheckedCall call : run.calls()) {
                printCall(out, call);
            }
            for (ScenarioRun.Finding f : run.problems()) {
                out.println("     ! " + f.problem() + (f.detail().isEmpty() ? "" : " [" + f.detail() + "]"));
            }
        }
        out.println();
        List<String> problems = problems();
        if (problems.isEmpty()) {
            out.println("The tool conforms: " + callCount() + " calls in " + runs.size() + " scenarios, no problem.");
        } else {
            out.println("Problems:");
            problems.forEach(p -> out.println("  - " + p));
            out.println("The tool does not conform: " + problems.size() + " problem" + (problems.size() == 1 ? "" : "s")
                    + ".");
        }
        out.flush();
    }

    private int callCount() {
        return runs.stream().mapToInt(r -> r.calls().size()).sum();
    }

    private static void printCall(PrintWriter out, CheckedCall call) {
        ProcResult r = call.result();
        String status = call.failed() ? (call.label().equals("check") ? "refused" : "FAILED") : "ok";
        String ended = r == null ? "no end" : r.timedOut() ? "timeout" : r.signal() != null ? "signal " + r.signal()
                : "exit " + r.exitCode();
        String took = r == null ? "" : r.elapsed().toMillis() + " ms";
        out.printf("   %-34s %-7s %-9s %8s  %s%n", call.label(), status, ended, took, argv(call.argv()));
        if (call.message() != null) {
            out.println("      Ferry says: " + call.message());
        }
        for (String left : call.leftovers()) {
            out.println("      left running: " + left);
        }
        for (String p : call.problems()) {
            out.println("      ! " + p);
        }
    }

    /** The argv as a shell would need it quoted, the tool named by its file name. */
    static String argv(List<String> argv) {
        List<String> shown = new ArrayList<>();
        for (int i = 0; i < argv.size(); i++) {
            String a = i == 0 ? String.valueOf(Path.of(argv.get(0)).getFileName()) : argv.get(i);
            shown.add(PLAIN.matcher(a).matches() ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return String.join(" ", shown);
    }
}
