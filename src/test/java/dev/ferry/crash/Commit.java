package dev.ferry.crash;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.nio.file.Path;
import java.time.Duration;

/** The commit a batch ran on, as git names it, marked when the checkout had changes not committed. */
final class Commit {
    private Commit() {
    }

    /**
     * {@code git rev-parse --short HEAD} in {@code base}, with {@code +changes} when tracked files
     * other than {@code docs/crash-runs.md} differ from it; {@code -Dferry.crash.commit} overrides it
     * for a build outside a git checkout.
     */
    static String describe(Path base) throws InterruptedException {
        String given = System.getProperty("ferry.crash.commit");
        if (given != null) {
            return given;
        }
        try {
            ProcessRunner runner = new ProcessRunner();
            ProcResult head = runner.run(git(base, "rev-parse", "--short", "HEAD"));
            if (!head.ok()) {
                return "unknown (" + head.describe() + ")";
            }
            ProcResult status = runner.run(git(base, "status", "--porcelain", "--untracked-files=no", "--", ".",
                    ":(exclude)docs/crash-runs.md"));
            boolean changed = !status.ok() || !status.stdout().text().isBlank();
            return head.stdout().text().strip() + (changed ? " +changes" : "");
        } catch (java.io.IOException e) {
            return "unknown (git: " + e.getMessage() + ")";
        }
    }

    private static Command git(Path base, String... args) {
        String[] argv = new String[args.length + 3];
        argv[0] = "git";
        argv[1] = "-C";
        argv[2] = base.toString();
        System.arraycopy(args, 0, argv, 3, args.length);
        return Command.of(argv).timeout(Duration.ofSeconds(30));
    }
}
