package dev.ferry.lab;

import static org.awaitility.Awaitility.await;

import dev.ferry.proc.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One host's QEMU as the agent runs it: a shell script that runs the real QEMU with every
 * argument and exits with its status. When it is armed ({@link #holdIncoming}) and the arguments
 * hold {@code -incoming}, the script, once QEMU has daemonized, writes its pid to a marker file
 * and waits until {@link #release}. Meanwhile the agent is inside its incoming start: the
 * migration journaled, the incoming QEMU running, the source not answered.
 *
 * <p>The script holds only after QEMU started, so a script whose agent was killed meanwhile
 * starts nothing when it goes on; it only exits. It gives up waiting by itself after a minute, so
 * it never outlives a broken run, and the agent's start timeout ends its process group sooner.
 */
public final class QemuHold {
    private static final Duration EXIT = Duration.ofSeconds(10);

    private final Path script;
    private final Path holdFile;
    private final Path reachedFile;

    private QemuHold(Path dir) {
        this.script = dir.resolve("qemu");
        this.holdFile = dir.resolve("qemu.hold");
        this.reachedFile = dir.resolve("qemu.reached");
    }

    /** Writes the script into {@code dir}, running {@code realQemu}; it holds nothing until armed. */
    public static QemuHold install(Path dir, Path realQemu) throws IOException {
        QemuHold hold = new QemuHold(Files.createDirectories(dir));
        Files.writeString(hold.script, """
                #!/bin/sh
                incoming=no
                for arg in "$@"; do [ "$arg" = -incoming ] && incoming=yes; done
                '%1$s' "$@"
                status=$?
                if [ $incoming = yes ] && [ -e '%2$s' ]; then
                  echo $$ > '%3$s.new' && mv '%3$s.new' '%3$s'
                  i=0
                  while [ -e '%2$s' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
                fi
                exit $status
                """.formatted(realQemu, hold.holdFile, hold.reachedFile));
        Files.setPosixFilePermissions(hold.script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return hold;
    }

    /** The script, the agent's configured QEMU. */
    public Path path() {
        return script;
    }

    /** The next incoming QEMU this host starts is held once it runs, until {@link #release}. */
    public void holdIncoming() throws IOException {
        Files.deleteIfExists(reachedFile);
        Files.writeString(holdFile, "hold");
    }

    /** Whether an incoming QEMU started and its launcher holds, within {@code limit}. */
    public boolean awaitHeld(Duration limit) {
        try {
            await("an incoming QEMU is held").atMost(limit).pollInterval(Duration.ofMillis(20))
                    .until(() -> Files.exists(reachedFile));
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /**
     * Lets a held launcher exit (with QEMU's status) and waits until it has; disarms a hold that
     * caught nothing. Fails when the launcher outlives {@link #EXIT}, since nothing the agents ran
     * may stay behind.
     */
    public void release() throws IOException, InterruptedException {
        Files.deleteIfExists(holdFile);
        long pid;
        try {
            pid = Long.parseLong(Files.readString(reachedFile).strip());
        } catch (NoSuchFileException e) {
            return;
        }
        Files.deleteIfExists(reachedFile);
        if (!Processes.awaitExit(pid, EXIT)) {
            throw new IllegalStateException("the held QEMU launcher (pid " + pid + ") did not exit within "
                    + EXIT.toSeconds() + " s of its release");
        }
    }
}
