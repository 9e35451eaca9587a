package dev.ferry.device;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.proc.Command;
import dev.ferry.proc.Containment;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.util.List;

/**
 * Runs an external migration tool for one device step and turns what it did into a verdict, a
 * success or a {@link DeviceException} in the device's own words. Each run is contained: whatever
 * the tool started ends with the step. What the tool says travels on bounded: at most
 * {@link #MAX_MESSAGES} messages ({@link #MAX_MESSAGE_CHARS} characters in all) and
 * {@link #MAX_PROGRESS} progress updates per run, then one note of how many more were dropped.
 */
public final class ToolRunner {
    /** The exit code with which a ferry-dialect tool refuses at check. */
    public static final int EXIT_REFUSE = 2;
    /** Messages passed on per run; the last one is always passed on too. */
    public static final int MAX_MESSAGES = 20;
    /** Characters of messages passed on per run. */
    public static final int MAX_MESSAGE_CHARS = 8 * 1024;
    /** Progress updates passed on per run (each at least 1 % from the one before). */
    public static final int MAX_PROGRESS = 100;

    private final ProcessRunner runner;

    public ToolRunner(ProcessRunner runner) {
        this.runner = runner;
    }

    /**
     * What one call of the tool said: {@code said} is its most informative line (see
     * {@link ToolMessages}), {@code error} its first JSON error line.
     */
    public record Outcome(ProcResult result, String said, String error, boolean refused) {}

    /**
     * Runs the tool for {@code step} (null: recovery after {@code lastGoodStep}).
     * Throws when the tool failed; a refusal at check is an outcome, not an exception.
     */
    public Outcome run(ToolSpec tool, DeviceContext ctx, Step step, Step lastGoodStep) throws DeviceException {
        String stepName = step == null ? "recover" : step.toolName();
        List<String> argv = ToolArguments.argv(tool, ctx, step, lastGoodStep);
        Lines lines = new Lines(tool.dialect(), ctx);
        Command command = Command.of(argv)
                .timeout(tool.timeout(step))
                .captureBytes(tool.outputCapBytes())
                .containChildren()
                .onStdoutLine(lines::stdout)
                .onStderrLine(lines::stderr);
        for (var e : ToolArguments.env(tool, ctx).entrySet()) {
            command = command.env(e.getKey(), e.getValue());
        }
        ProcResult result;
        try {
            result = runner.run(command);
        } catch (IOException e) {
            throw new DeviceException("tool " + tool.executable() + " could not be started at " + stepName + ": "
                    + e.getMessage() + "; check that it exists and is executable", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException("tool " + tool.executable() + " was stopped at " + stepName
                    + " because the migration gave up waiting for it");
        } finally {
            lines.finish(stepName);
        }
        ctx.toolCall(ToolCall.of(ctx.device().id(), stepName, tool.executable().toString(), result));
        if (result.containment() == Containment.PROCESS_GROUP) {
            ctx.message("tool " + tool.executable() + " ran in its process group only (this host gives Ferry no"
                    + " cgroup v2): a child that left the group may outlive the step");
        }
        return judge(tool, ctx.device(), step, stepName, result, lines.messages());
    }

    private static Outcome judge(ToolSpec tool, DeviceRef device, Step step, String stepName, ProcResult result,
                                 ToolMessages said) throws DeviceException {
        String tool0 = "tool " + tool.executable();
        String words = said.selected();
        String lastWords = words == null ? "" : " (its last words: " + words + ")";
        if (result.timedOut()) {
            throw new DeviceException(tool0 + " did not finish " + stepName + " within "
                    + tool.timeout(step).toMillis() + " ms and was killed" + lastWords);
        }
        if (result.signal() != null) {
            throw new DeviceException(tool0 + " was killed by signal " + result.signal() + " at " + stepName + lastWords);
        }
        boolean xen = tool.dialect() == ToolDialect.XEN;
        // The error line each dialect fails on: a JSON error (ferry), a stdout line with "Error" (xen).
        String errorLine = xen ? said.stdoutErrorLine() : said.jsonError();
        boolean failed = tool.dialect().failed(device, result.exitCode(), errorLine != null);
        boolean refuses = step == Step.CHECK && (xen ? failed : result.exitCode() == EXIT_REFUSE);
        if (refuses) {
            return new Outcome(result, words, said.jsonError(), true);
        }
        if (failed && (xen || result.exitCode() != 0)) {
            throw new DeviceException(tool0 + " failed at " + stepName + ": "
                    + (words != null ? words : "no output") + " (exit " + result.exitCode() + ")");
        }
        if (failed) {
            throw new DeviceException(tool0 + " reported an error at " + stepName + ": " + said.jsonError());
        }
        return new Outcome(result, words, said.jsonError(), false);
    }

    /**
     * One run's lines: all of them go through {@link ToolMessages}; messages and progress are passed
     * on to the device's context within the bounds, the rest counted.
     */
    private static final class Lines {
        private final ToolMessages messages;
        private final DeviceContext ctx;
        private int messagesPassed;
        private int messageChars;
        private long messagesDropped;
        private String lastDropped;
        private int progressPassed;
        private long progressDropped;
        private double lastProgress = -1;

        Lines(ToolDialect dialect, DeviceContext ctx) {
            this.messages = new ToolMessages(dialect);
            this.ctx = ctx;
        }

        synchronized void stdout(String line) {
            JsonNode node = messages.stdout(line);
            if (node == null) {
                return;
            }
            if (node.path("progress").isNumber()) {
                progress(node.get("progress").asDouble());
            }
            if (node.path("message").isTextual()) {
                message(ToolMessages.cut(node.get("message").asText()));
            }
        }

        synchronized void stderr(String line) {
            messages.stderr(line);
        }

        private void progress(double fraction) {
            if (progressPassed < MAX_PROGRESS && Math.abs(fraction - lastProgress) >= 0.01) {
                progressPassed++;
                lastProgress = fraction;
                ctx.progress(fraction);
            } else {
                progressDropped++;
            }
        }

        private void message(String text) {
            if (messagesPassed < MAX_MESSAGES && messageChars + text.length() <= MAX_MESSAGE_CHARS) {
                messagesPassed++;
                messageChars += text.length();
                ctx.message(text);
            } else {
                messagesDropped++;
                lastDropped = text;
            }
        }

        /** Passes on the last message if it was dropped, and says how many were. */
        synchronized void finish(String stepName) {
            if (lastDropped != null) {
                messagesDropped--;
                ctx.message(lastDropped);
            }
            if (messagesDropped > 0 || progressDropped > 0) {
                ctx.message("at " + stepName + ": " + messagesDropped + " more messages dropped, " + progressDropped
                        + " more progress updates dropped");
            }
        }

        synchronized ToolMessages messages() {
            return messages;
        }
    }
}
