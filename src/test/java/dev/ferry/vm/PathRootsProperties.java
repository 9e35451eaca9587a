package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.vm.PathRoots.Use;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * However a path is spelled (links in and out of the root, '..' after a link, '.', detours through
 * the outside and back), the rule accepts it exactly when the file the kernel opens through it is
 * one inside the root, and then names that file. The oracle is the kernel itself: every file holds
 * "in" or "out", and the test reads it through the path as given.
 */
class PathRootsProperties {
    private static final List<String> DIRECTORIES = List.of("sub", "link-in", "link-out", "..", ".", "elsewhere",
            "images", "link-back", "nested");
    private static final List<String> FILES = List.of("in.img", "in2.img", "out.img", "file-link-out", "file-link-in",
            "proc-link", "missing.img");
    private static Path dir;
    private static Path root;
    private static PathRoots roots;

    @BeforeContainer
    static void tree() throws IOException {
        dir = Files.createTempDirectory("path-roots").toRealPath();
        root = Files.createDirectories(dir.resolve("images"));
        Path outside = Files.createDirectories(dir.resolve("elsewhere"));
        Files.createDirectories(root.resolve("sub"));
        Files.createDirectories(outside.resolve("nested"));
        Files.writeString(root.resolve("in.img"), "in");
        Files.writeString(root.resolve("sub/in2.img"), "in");
        Files.writeString(outside.resolve("out.img"), "out");
        Files.writeString(outside.resolve("nested/in.img"), "out");
        Files.createSymbolicLink(root.resolve("link-in"), Path.of("sub"));
        Files.createSymbolicLink(root.resolve("link-out"), outside.resolve("nested"));
        Files.createSymbolicLink(root.resolve("file-link-out"), outside.resolve("out.img"));
        Files.createSymbolicLink(root.resolve("sub/file-link-in"), Path.of("in2.img"));
        Files.createSymbolicLink(root.resolve("proc-link"), Path.of("/proc/self/environ"));
        Files.createSymbolicLink(outside.resolve("link-back"), root);
        roots = PathRoots.of(dir.resolve("data"), List.of(root), List.of(), List.of(), List.of());
    }

    @AfterContainer
    static void removeTree() throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Provide
    Arbitrary<Path> spellings() {
        Arbitrary<List<String>> dirs = Arbitraries.of(DIRECTORIES).list().ofMaxSize(6);
        Arbitrary<String> file = Arbitraries.of(FILES);
        Arbitrary<Path> start = Arbitraries.of(root, dir.resolve("elsewhere"), dir);
        return net.jqwik.api.Combinators.combine(start, dirs, file)
                .as((s, d, f) -> Path.of(s + "/" + String.join("/", d) + (d.isEmpty() ? "" : "/") + f));
    }

    @Property(tries = 2000)
    void acceptedExactlyWhenTheKernelOpensAFileInside(@ForAll("spellings") Path given) throws Exception {
        String content = readable(given);
        PathRefusedException refusal = null;
        Path resolved = null;
        try {
            resolved = roots.existing(Use.DISK, "devices[0].path", given);
        } catch (PathRefusedException e) {
            refusal = e;
        }
        if ("in".equals(content)) {
            assertThat(refusal).as("%s opens a file inside the root", given).isNull();
            assertThat(resolved.startsWith(root)).isTrue();
            assertThat(Files.readString(resolved)).as("the resolved path is the same file").isEqualTo("in");
        } else {
            assertThat(refusal).as("%s opens %s", given, content).isNotNull();
            assertThat(refusal.getMessage()).startsWith("devices[0].path: " + given);
            assertThat(refusal.missing()).isEqualTo(content == null);
        }
    }

    @Property(tries = 1000)
    void aNewFileIsAcceptedOnlyWhereItWouldBeCreatedInside(@ForAll("spellings") Path given) throws Exception {
        Path target = given.resolveSibling("new.save");
        Path parentReal = realOrNull(target.getParent());
        try {
            Path resolved = roots.toCreate(Use.DISK, "file", target);
            assertThat(parentReal).as("%s is accepted, so its directory exists or is made below the root", target)
                    .satisfiesAnyOf(p -> assertThat(p).isNull(), p -> assertThat(p.startsWith(root)).isTrue());
            assertThat(resolved.startsWith(root)).as("%s resolves to %s", target, resolved).isTrue();
        } catch (PathRefusedException e) {
            assertThat(parentReal == null || !parentReal.startsWith(root)).as("%s was refused: %s", target, e.getMessage())
                    .isTrue();
        }
    }

    /** What the kernel reads through {@code p}: "in", "out", something else, or null when there is no file. */
    private static String readable(Path p) {
        try {
            if (!Files.isRegularFile(p)) {
                return Files.exists(p) ? "not a file" : null;
            }
            String s = Files.readString(p);
            return s.equals("in") || s.equals("out") ? s : "outside the tree";
        } catch (IOException e) {
            return "unreadable";
        }
    }

    private static Path realOrNull(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return null;
        }
    }
}
