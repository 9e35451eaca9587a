package dev.ferry.proc;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process groups, which Java cannot address itself: children start through {@code setsid} (which
 * execs in place, so the child's pid is its group id) and whole groups are signalled through
 * {@code kill}. Both are util-linux/procps tools found on every Linux host.
 */
final class ProcessGroups {
    private static final Logger log = LoggerFactory.getLogger(ProcessGroups.class);
    private static final List<String> SETSID = List.of("/usr/bin/setsid", "/bin/setsid");
    private static final List<String> KILL = List.of("/usr/bin/kill", "/bin/kill");

    private ProcessGroups() {
    }

    /** The setsid executable, or an explanation of how to install it. */
    static String setsid() throws IOException {
        return find(SETSID, "setsid (util-linux)");
    }

    /** Sends SIGKILL to every process in group {@code pgid}; false when the group was already gone. */
    static boolean killGroup(long pgid) {
        if (pgid <= 1) {
            throw new IllegalArgumentException("refusing to signal process group " + pgid);
        }
        try {
            Process kill = new ProcessBuilder(find(KILL, "kill (procps or util-linux)"), "-s", "KILL", "--", "-" + pgid)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!kill.waitFor(10, TimeUnit.SECONDS)) {
                kill.destroyForcibly();
                log.warn("kill of process group {} did not return within 10s", pgid);
                return false;
            }
            return kill.exitValue() == 0;
        } catch (IOException e) {
            log.warn("cannot kill process group {}: {}", pgid, e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String find(List<String> candidates, String what) throws IOException {
        for (String candidate : candidates) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new IOException(what + " not found at " + candidates + "; install it with the system package manager");
    }
}
