package dev.ferry.fault;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/**
 * The migration tool of the guest's {@code external} device. A control file holds one
 * {@code <step>:<behaviour>} line; at that step the tool misbehaves, at every other step it
 * succeeds at once. Behaviours: {@code exit-1}, {@code hang} (sleeps past its timeout),
 * {@code signal} (SIGKILLs itself), {@code flood} (about 50 MB on stdout, then exit 1) and
 * {@code hold} (waits while the hold file exists, so the suite can act while the migration is in
 * that step; it gives up by itself after a minute so nothing outlives a broken run).
 */
final class FaultTool {
    /** Each step's timeout in the agents' config: short, so a hang costs the matrix little. */
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(5);
    static final long FLOOD_BYTES = 50L * 1024 * 1024;

    private final Path script;
    private final Path control;
    private final Path holdFile;
    private final Path heldFile;

    private FaultTool(Path dir) {
        this.script = dir.resolve("fault-tool");
        this.control = dir.resolve("fault-tool.control");
        this.holdFile = dir.resolve("fault-tool.hold");
        this.heldFile = dir.resolve("fault-tool.held");
    }

    static FaultTool install(Path dir) throws IOException {
        FaultTool tool = new FaultTool(dir);
        Files.writeString(tool.script, """
                #!/bin/sh
                step=$2
                want=$(cat '%1$s' 2>/dev/null)
                [ "$want" = "$step:hold" ] && want=hold
                case "$want" in
                  "$step:exit-1") echo '{"error":"injected: exit 1 at '"$step"'"}'; exit 1;;
                  "$step:hang") exec sleep 600;;
                  "$step:signal") kill -KILL $$;;
                  "$step:flood") yes 'flood flood flood flood flood flood flood flood flood flood flood' | head -c %2$d; exit 1;;
                  hold)
                    echo "$step" > '%3$s'
                    i=0
                    while [ -e '%4$s' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
                    rm -f '%3$s'
                    exit 0;;
                esac
                exit 0
                """.formatted(tool.control, FLOOD_BYTES, tool.heldFile, tool.holdFile));
        Files.setPosixFilePermissions(tool.script, PosixFilePermissions.fromString("rwxr-xr-x"));
        tool.reset();
        return tool;
    }

    Path path() {
        return script;
    }

    /** The tool misbehaves as {@code behaviour} at {@code step} (a ferry-dialect step name). */
    void at(String step, String behaviour) throws IOException {
        if (behaviour.equals("hold")) {
            Files.deleteIfExists(heldFile);
            Files.writeString(holdFile, step);
        }
        Files.writeString(control, step + ":" + behaviour);
    }

    /** Whether a held step was reached within {@code limit}. */
    boolean awaitHeld(Duration limit) throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        while (!Files.exists(heldFile)) {
            if (System.nanoTime() > until) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Lets a held step finish (successfully). */
    void release() throws IOException {
        Files.deleteIfExists(holdFile);
    }

    /** Every step succeeds again. */
    void reset() throws IOException {
        release();
        Files.writeString(control, "none");
        Files.deleteIfExists(heldFile);
    }
}
