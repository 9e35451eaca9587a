package dev.ferry.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * Reads what a tool prints, line by line, and keeps what a person needs of it: the line that says
 * best why a step failed or a device refused. In order of preference:
 *
 * <ol>
 *   <li>the first JSON {@code {"error":"..."}} line on stdout (ferry dialect);
 *   <li>the first line containing {@code Error} (as xend's tools print it), on either stream;
 *   <li>the last line on stderr that is not a shell trace ({@code + cmd}, {@code ++ cmd} from {@code set -x});
 *   <li>the last line on stdout, a JSON {@code message} as its text (progress lines do not count).
 * </ol>
 *
 * <p>{@link #select} is the one entry point for anything that wants to show a tool's words as
 * Ferry would; the runner feeds the same rules line by line, as the tool writes.
 *
 * <p>Lines longer than {@link #MAX_LINE_CHARS} are cut. Not thread-safe: one per stream pair, fed in order
 * of arrival (stdout and stderr lines may come from two threads; the runner synchronizes).
 */
public final class ToolMessages {
    /** The longest line kept; a longer one is cut and marked. */
    public static final int MAX_LINE_CHARS = 1000;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TRACE = Pattern.compile("^\\++ .*|^\\++$");

    private final boolean json;
    private String jsonError;
    private String errorLine;
    private String stdoutErrorLine;
    private String lastStderr;
    private String lastStdout;

    /**
     * The line Ferry shows for a tool that failed or refused, chosen from everything it wrote to
     * {@code stdout} and {@code stderr}; null when it wrote nothing worth showing. This is the
     * selection every step's failure and every refusal at check uses.
     */
    public static String select(ToolDialect dialect, String stdout, String stderr) {
        ToolMessages m = new ToolMessages(dialect);
        stdout.lines().forEach(m::stdout);
        stderr.lines().forEach(m::stderr);
        return m.selected();
    }

    /** Reads lines as {@code dialect} means them: only the ferry dialect's tools speak JSON. */
    ToolMessages(ToolDialect dialect) {
        this.json = dialect == ToolDialect.FERRY;
    }

    /** One stdout line; returns it parsed when it is a JSON object, else null. */
    JsonNode stdout(String line) {
        String text = line.strip();
        if (text.isEmpty()) {
            return null;
        }
        JsonNode node = json && text.startsWith("{") ? parse(text) : null;
        if (node == null || !node.isObject()) {
            lastStdout = cut(text);
            noteErrorLine(text, true);
            return null;
        }
        if (node.path("error").isTextual() && jsonError == null) {
            jsonError = cut(node.get("error").asText());
        }
        if (node.path("message").isTextual()) {
            String message = node.get("message").asText().strip();
            if (!message.isEmpty()) {
                lastStdout = cut(message);
                noteErrorLine(message, false);
            }
        }
        return node;
    }

    /** One stderr line. */
    void stderr(String line) {
        String text = line.strip();
        if (text.isEmpty() || TRACE.matcher(text).matches()) {
            return;
        }
        lastStderr = cut(text);
        noteErrorLine(text, false);
    }

    private void noteErrorLine(String text, boolean plainStdout) {
        if (!text.contains("Error")) {
            return;
        }
        if (errorLine == null) {
            errorLine = cut(text);
        }
        if (plainStdout && stdoutErrorLine == null) {
            stdoutErrorLine = cut(text);
        }
    }

    /** The first JSON error, or null. */
    String jsonError() {
        return jsonError;
    }

    /** The first plain stdout line containing {@code Error}: what fails a xen-dialect step. */
    String stdoutErrorLine() {
        return stdoutErrorLine;
    }

    /** The most informative line (see the class comment), or null. */
    String selected() {
        if (jsonError != null) {
            return jsonError;
        }
        if (errorLine != null) {
            return errorLine;
        }
        return lastStderr != null ? lastStderr : lastStdout;
    }

    static String cut(String text) {
        return text.length() <= MAX_LINE_CHARS ? text
                : text.substring(0, MAX_LINE_CHARS) + "... (" + (text.length() - MAX_LINE_CHARS) + " more characters)";
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            return null;
        }
    }
}
