package dev.ferry.model;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds and runs SPIN's verifier for {@code model/ferry.pml} in a directory of its own, never in
 * the source tree: {@code spin -a} writes {@code pan.c}, gcc compiles it, and each property is
 * checked by one run of {@code pan} (with {@code -a} for a liveness property, which needs the
 * acceptance-cycle search).
 */
final class ModelChecker {
    private static final Duration LIMIT = Duration.ofMinutes(2);
    /** Deeper than any path of the model (about 370 steps), so no search is cut short. */
    private static final String DEPTH = "-m20000";

    private final ProcessRunner runner = new ProcessRunner();
    private final Path model;

    ModelChecker(Path model) {
        this.model = model;
    }

    /** A compiled verifier of the model with {@code macros} defined (a broken variant), in {@code dir}. */
    Verifier build(Path dir, List<String> macros) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        // The model and the files it includes.
        try (DirectoryStream<Path> files = Files.newDirectoryStream(model.getParent(), "*.pml")) {
            for (Path f : files) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        List<String> spin = new ArrayList<>(List.of("spin", "-a"));
        macros.forEach(m -> spin.add("-D" + m));
        spin.add("ferry.pml");
        run(dir, spin);
        run(dir, List.of("gcc", "-O0", "-w", "-o", "pan", "pan.c"));
        return new Verifier(dir);
    }

    /** One compiled {@code pan}; each check is one search for one property. */
    final class Verifier {
        private final Path dir;

        private Verifier(Path dir) {
            this.dir = dir;
        }

        PanRun check(Property property) throws IOException, InterruptedException {
            List<String> argv = new ArrayList<>(List.of("./pan", DEPTH, "-n"));
            if (property.liveness()) {
                argv.add("-a");
            }
            argv.addAll(List.of("-N", property.ltlName()));
            return PanRun.parse(run(dir, argv).stdout().text());
        }
    }

    private ProcResult run(Path dir, List<String> argv) throws IOException, InterruptedException {
        ProcResult r = runner.run(Command.of(argv).workDir(dir).timeout(LIMIT).captureBytes(256 * 1024));
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", argv) + " in " + dir + " failed: " + r.describe()
                    + "\n" + r.stdout().text() + r.stderr().text()
                    + "\n(scripts/system-deps installs spin and gcc)");
        }
        return r;
    }
}
