package dev.ferry.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.ToolDialect;
import dev.ferry.proc.Output;
import dev.ferry.proc.ProcResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one call's output as the tool contract demands and names every breach: JSON lines Ferry
 * cannot read (ferry dialect), output Ferry would cut, and an error printed by a tool that then
 * exits 0, which leaves the reader to guess whether the step worked.
 */
final class OutputContract {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int QUOTE_CHARS = 120;

    private OutputContract() {}

    static List<String> breaches(ToolDialect dialect, ProcResult result, int capBytes) {
        List<String> breaches = new ArrayList<>();
        overCap("stdout", result.stdout(), capBytes, breaches);
        overCap("stderr", result.stderr(), capBytes, breaches);
        List<String> stdout = lines(result.stdout());
        if (dialect == ToolDialect.FERRY) {
            for (int i = 0; i < stdout.size(); i++) {
                String why = jsonBreach(stdout.get(i));
                if (why != null) {
                    breaches.add("stdout line " + (i + 1) + " " + why + ": " + quote(stdout.get(i))
                            + "; print one JSON object per line, or a line that does not start with '{'");
                }
            }
        }
        if (result.ok()) {
            String error = errorLine(dialect, stdout, lines(result.stderr()));
            if (error != null) {
                breaches.add("exited 0 but printed an error: " + quote(error) + "; exit non-zero when the step"
                        + " failed, and keep errors out of the output when it did not");
            }
        }
        return breaches;
    }

    private static void overCap(String stream, Output output, int capBytes, List<String> breaches) {
        if (output.truncated() || output.totalBytes() > capBytes) {
            breaches.add("wrote " + output.totalBytes() + " bytes to " + stream + ", over the cap of " + capBytes
                    + "; Ferry keeps only the last " + capBytes + " bytes, so say less");
        }
    }

    /** Why a stdout line that looks like JSON is not what Ferry reads, or null when it is fine or not JSON. */
    private static String jsonBreach(String line) {
        if (!line.startsWith("{")) {
            return null;
        }
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (IOException e) {
            return "is not valid JSON";
        }
        if (node == null || !node.isObject()) {
            return "is not a JSON object";
        }
        if (node.has("progress") && !(node.get("progress").isNumber()
                && node.get("progress").asDouble() >= 0 && node.get("progress").asDouble() <= 1)) {
            return "has a progress that is not a number from 0 to 1";
        }
        for (String key : List.of("message", "error")) {
            if (node.has(key) && !node.get(key).isTextual()) {
                return "has a " + key + " that is not a string";
            }
        }
        return null;
    }

    /** The first line that reports an error: a JSON error (ferry), or a line with {@code Error} that is not a shell trace. */
    private static String errorLine(ToolDialect dialect, List<String> stdout, List<String> stderr) {
        for (String line : stdout) {
            if (line.contains("Error") || dialect == ToolDialect.FERRY && hasJsonError(line)) {
                return line;
            }
        }
        for (String line : stderr) {
            if (!line.startsWith("+") && line.contains("Error")) {
                return line;
            }
        }
        return null;
    }

    private static boolean hasJsonError(String line) {
        if (!line.startsWith("{")) {
            return false;
        }
        try {
            JsonNode node = JSON.readTree(line);
            return node != null && node.isObject() && node.has("error");
        } catch (IOException e) {
            return false;
        }
    }

    private static List<String> lines(Output output) {
        List<String> lines = new ArrayList<>();
        for (String line : output.text().split("\n")) {
            if (!line.isBlank()) {
                lines.add(line.strip());
            }
        }
        return lines;
    }

    private static String quote(String line) {
        return "'" + (line.length() > QUOTE_CHARS ? line.substring(0, QUOTE_CHARS) + "..." : line) + "'";
    }
}
