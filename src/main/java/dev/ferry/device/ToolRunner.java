package dev.ferry.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs an external migration tool for one device step and turns what it did into a verdict, a
 * success or a {@link DeviceException} in the device's own words.
 */
public final class ToolRunner {
    /** The exit code with which a ferry-dialect tool refuses at check. */
    public static final int EXIT_REFUSE = 2;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ProcessRunner runner;

    public ToolRunner(ProcessRunner runner) {
        this.runner = runner;
    }

    /** What one call of the tool said. */
    public record Outcome(ProcResult result, String said, String error, boolean refused) {}

    /**
     * Runs the tool for {@code step} (null: recovery after {@code lastGoodStep}).
     * Throws when the tool failed; a refusal at check is an outcome, not an exception.
     */
    public Outcome run(ToolSpec tool, DeviceContext ctx, Step step, Step lastGoodStep) throws DeviceException {
        String stepName = step == null ? "recover" : step.toolName();
        List<String> argv = ToolArguments.argv(tool, ctx, step, lastGoodStep);
        AtomicReference<String> said = new AtomicReference<>();
        AtomicReference<String> error = new AtomicReference<>();
        Command command = Command.of(argv)
                .timeout(tool.timeout(step))
                .captureBytes(tool.outputCapBytes())
                .onStdoutLine(line -> read(tool.dialect(), line, ctx, said, error));
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
        }
        String tool0 = "tool " + tool.executable();
        if (result.timedOut()) {
            throw new DeviceException(tool0 + " did not finish " + stepName + " within "
                    + tool.timeout(step).toMillis() + " ms and was killed");
        }
        if (result.signal() != null) {
            throw new DeviceException(tool0 + " was killed by signal " + result.signal() + " at " + stepName);
        }
        String words = error.get() != null ? error.get() : said.get();
        boolean failed = tool.dialect().failed(ctx.device(), result.exitCode(), error.get() != null);
        boolean refuses = step == Step.CHECK && (tool.dialect() == ToolDialect.FERRY
                ? result.exitCode() == EXIT_REFUSE : failed);
        if (refuses) {
            return new Outcome(result, said.get(), error.get(), true);
        }
        if (failed && (tool.dialect() == ToolDialect.XEN || result.exitCode() != 0)) {
            throw new DeviceException(tool0 + " failed at " + stepName + ": "
                    + (words != null ? words : lastLine(result)) + " (exit " + result.exitCode() + ")");
        }
        if (failed) {
            throw new DeviceException(tool0 + " reported an error at " + stepName + ": " + error.get());
        }
        return new Outcome(result, said.get(), error.get(), false);
    }

    private static void read(ToolDialect dialect, String line, DeviceContext ctx,
                             AtomicReference<String> said, AtomicReference<String> error) {
        String trimmed = line.strip();
        if (trimmed.isEmpty()) {
            return;
        }
        if (dialect == ToolDialect.XEN) {
            if (trimmed.contains("Error")) {
                error.compareAndSet(null, trimmed);
            }
            said.set(trimmed);
            return;
        }
        JsonNode node = trimmed.startsWith("{") ? parse(trimmed) : null;
        if (node == null || !node.isObject()) {
            said.set(trimmed);
            return;
        }
        if (node.path("progress").isNumber()) {
            ctx.progress(node.get("progress").asDouble());
        }
        if (node.path("message").isTextual()) {
            said.set(node.get("message").asText());
            ctx.message(node.get("message").asText());
        }
        if (node.path("error").isTextual()) {
            error.compareAndSet(null, node.get("error").asText());
        }
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            return null;
        }
    }

    private static String lastLine(ProcResult result) {
        String text = result.stderr().text().isBlank() ? result.stdout().text() : result.stderr().text();
        String[] lines = text.strip().split("\n");
        String last = lines[lines.length - 1].strip();
        return last.isEmpty() ? "no output" : last;
    }
}
