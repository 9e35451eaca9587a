package dev.ferry.device;

import dev.ferry.proc.ProcResult;

/**
 * One call of an external tool, as {@code ferry migration show ID --tool-output} shows it: how it
 * ended and the kept tail of each stream (at most the tool's output cap, 64 KiB by default).
 *
 * @param device      the device's id
 * @param step        the step's tool name (check, pre-suspend, ..., recover)
 * @param tool        the tool's executable
 * @param ended       how it ended, in words ({@code exited 0}, {@code killed by signal 9}, {@code timed out})
 * @param containment what ended its children: cgroup, process-group
 * @param elapsedMs   how long it ran
 * @param stdout      the kept tail of its stdout
 * @param stdoutBytes how many bytes it wrote to stdout in all
 * @param stderr      the kept tail of its stderr
 * @param stderrBytes how many bytes it wrote to stderr in all
 */
public record ToolCall(String device, String step, String tool, String ended, String containment, long elapsedMs,
                       String stdout, long stdoutBytes, String stderr, long stderrBytes) {

    static ToolCall of(String device, String step, String tool, ProcResult r) {
        String ended = r.timedOut() ? "timed out" : r.signal() != null ? "killed by signal " + r.signal()
                : "exited " + r.exitCode();
        return new ToolCall(device, step, tool, ended, r.containment().name().toLowerCase(java.util.Locale.ROOT)
                .replace('_', '-'), r.elapsed().toMillis(), r.stdout().text(), r.stdout().totalBytes(),
                r.stderr().text(), r.stderr().totalBytes());
    }

    /** Characters this call holds, to bound how many are kept. */
    public long size() {
        return stdout.length() + stderr.length();
    }
}
