package dev.ferry.lab;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The migration tool of the test guest's {@code external} device, a shell script. It appends each
 * call's arguments to a calls file. A control file holds one {@code <step>:<behaviour>} line; at
 * that step the tool misbehaves, at every other step it succeeds at once. Behaviours:
 * {@code exit-1} (a JSON error line, then exit 1; {@code exit-1:<message>} chooses the message),
 * {@code hang} (sleeps past its timeout), {@code signal} (SIGKILLs itself), {@code flood} (about
 * 50 MB on stdout, then exit 1) and {@code hold} (waits while the hold file exists, so a test can
 * act while the migration is in that step; it gives up by itself after a minute so nothing
 * outlives a broken run). Two more behaviours succeed but misbehave on the way: {@code json-flood}
 * (tens of MB of JSON {@code message} and {@code progress} lines, plain text and stderr lines, then
 * a last message and exit 0) and {@code escape} (leaves three {@code sleep}s behind: one in its process group, one
 * under {@code setsid} and one after a double fork, their pids in {@link #escapedPids}, then exit
 * 0). The step {@code all} makes the tool misbehave at every step but recover.
 */
public final class FakeTool {
    public static final long FLOOD_BYTES = 50L * 1024 * 1024;
    /** What {@code hang} runs, so a test can look for it: {@code pgrep -fx}. */
    public static final String HANG_COMMAND = "sleep 600";
    /**
     * MiB of each kind of JSON line (message, progress) {@code json-flood} writes, and twice the MiB
     * of plain text on stdout and on stderr; {@code json-flood:N} writes N MiB instead.
     */
    public static final int JSON_FLOOD_MIB = 12;

    private final Path script;
    private final Path control;
    private final Path calls;
    private final Path holdFile;
    private final Path heldFile;
    private final Path escaped;

    private FakeTool(Path dir) {
        this.script = dir.resolve("fake-tool");
        this.control = dir.resolve("fake-tool.control");
        this.calls = dir.resolve("fake-tool.calls");
        this.holdFile = dir.resolve("fake-tool.hold");
        this.heldFile = dir.resolve("fake-tool.held");
        this.escaped = dir.resolve("fake-tool.escaped");
    }

    /** Writes the script into {@code dir}; every step succeeds until told otherwise. */
    public static FakeTool install(Path dir) throws IOException {
        FakeTool tool = new FakeTool(Files.createDirectories(dir));
        Files.writeString(tool.script, """
                #!/bin/sh
                step=$2
                echo "$*" >> '%1$s'
                line=$(cat '%2$s' 2>/dev/null)
                case "$line" in
                  "$step":*) behaviour=${line#"$step":};;
                  all:*) [ "$step" != recover ] || exit 0; behaviour=${line#all:};;
                  *) exit 0;;
                esac
                case "$behaviour" in
                  exit-1*)
                    message=${behaviour#exit-1}; message=${message#:}
                    [ -n "$message" ] || message="injected: exit 1 at $step"
                    echo '{"error":"'"$message"'"}'; exit 1;;
                  hang) exec %3$s;;
                  signal) kill -KILL $$;;
                  flood) yes 'flood flood flood flood flood flood flood flood flood flood flood' | head -c %4$d; exit 1;;
                  json-flood*)
                    mib=${behaviour#json-flood}; mib=${mib#:}; [ -n "$mib" ] || mib=%7$d
                    yes '{"message":"copying block group of the device, still going strong"}' | head -c $((mib * 1048576)); echo
                    yes '{"progress":0.5}' | head -c $((mib * 1048576)); echo
                    yes 'plain text progress line from the tool' | head -c $((mib * 524288)); echo
                    yes 'a stderr line from the tool' | head -c $((mib * 524288)) >&2
                    echo '{"message":"done flooding at '"$step"'"}'
                    exit 0;;
                  escape)
                    before=$(cat '%8$s' 2>/dev/null | wc -l)
                    sleep 6001 & echo $! >> '%8$s'
                    setsid sh -c 'echo $$ >> "$0"; exec sleep 6002' '%8$s' &
                    ( sh -c 'echo $$ >> "$0"; exec sleep 6003' '%8$s' & ) &
                    i=0
                    while [ "$(wc -l < '%8$s')" -lt $((before + 3)) ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
                    exit 0;;
                  hold)
                    echo "$step" > '%5$s'
                    i=0
                    while [ -e '%6$s' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
                    rm -f '%5$s'
                    exit 0;;
                esac
                exit 0
                """.formatted(tool.calls, tool.control, HANG_COMMAND, FLOOD_BYTES, tool.heldFile, tool.holdFile,
                        JSON_FLOOD_MIB, tool.escaped));
        Files.setPosixFilePermissions(tool.script, PosixFilePermissions.fromString("rwxr-xr-x"));
        tool.reset();
        return tool;
    }

    public Path path() {
        return script;
    }

    /** The tool misbehaves as {@code behaviour} at {@code step} (a ferry-dialect step name). */
    public void at(String step, String behaviour) throws IOException {
        if (behaviour.equals("hold")) {
            Files.deleteIfExists(heldFile);
            Files.writeString(holdFile, step);
        }
        Files.writeString(control, step + ":" + behaviour);
    }

    /** The tool fails at {@code step} with {@code message} as its JSON error. */
    public void failAt(String step, String message) throws IOException {
        at(step, "exit-1:" + message);
    }

    /** The tool waits at {@code step} until {@link #release}. */
    public void holdAt(String step) throws IOException {
        at(step, "hold");
    }

    /** Whether a held step was reached within {@code limit}. */
    public boolean awaitHeld(Duration limit) {
        try {
            await("the tool reaches its held step").atMost(limit).pollInterval(Duration.ofMillis(20))
                    .until(() -> Files.exists(heldFile));
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** Lets a held step finish (successfully). */
    public void release() throws IOException {
        Files.deleteIfExists(holdFile);
    }

    /** The arguments of every call so far, one line each. */
    public String calls() throws IOException {
        return Files.exists(calls) ? Files.readString(calls) : "";
    }

    /** The pids of the processes {@code escape} left behind so far. */
    public List<Long> escapedPids() throws IOException {
        if (!Files.exists(escaped)) {
            return List.of();
        }
        return Files.readAllLines(escaped).stream().map(String::strip).filter(l -> !l.isEmpty()).map(Long::parseLong)
                .toList();
    }

    /** Every step succeeds again, and the calls so far are forgotten. */
    public void reset() throws IOException {
        release();
        Files.writeString(control, "none");
        Files.deleteIfExists(heldFile);
        Files.deleteIfExists(calls);
        Files.deleteIfExists(escaped);
    }
}
