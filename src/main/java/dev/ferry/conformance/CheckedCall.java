package dev.ferry.conformance;

import dev.ferry.proc.ProcResult;
import java.util.ArrayList;
import java.util.List;

/**
 * One call of the tool as the check saw it: what Ferry asked (the argv), how the tool ended, what
 * Ferry made of it and what broke the contract. Filled by the thread that made the call.
 */
final class CheckedCall {
    private final String label;
    private List<String> argv = List.of();
    private ProcResult result;
    private String message;
    private boolean failed;
    private volatile String note;
    private final List<String> leftovers = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();

    /** @param label how the report names the call: {@code pre-suspend}, {@code recover}, {@code recover again} */
    CheckedCall(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }

    void argv(List<String> argv) {
        this.argv = List.copyOf(argv);
    }

    List<String> argv() {
        return argv;
    }

    void result(ProcResult result) {
        this.result = result;
    }

    /** How the process ended; null when it never ran to its end (it could not start, or the step was abandoned). */
    ProcResult result() {
        return result;
    }

    /** What Ferry would show for this call (a failure, a refusal, or the tool's last message), or null. */
    void said(String message, boolean failed) {
        this.message = message;
        this.failed = failed;
    }

    /** The last message the tool reported while the call ran (from its output reader's thread). */
    void note(String message) {
        note = message;
    }

    String note() {
        return note;
    }

    String message() {
        return message;
    }

    boolean failed() {
        return failed;
    }

    void leftover(String process) {
        leftovers.add(process);
    }

    List<String> leftovers() {
        return List.copyOf(leftovers);
    }

    void problem(String text) {
        problems.add(text);
    }

    List<String> problems() {
        return List.copyOf(problems);
    }
}
