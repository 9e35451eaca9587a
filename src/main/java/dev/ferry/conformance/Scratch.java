package dev.ferry.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The check's scratch directory: the tool's working directory, {@code HOME} and {@code TMPDIR},
 * and the destination's directory (save files, the paths a disk tool fills). A snapshot of it
 * tells whether step 0 had side effects and whether a recovery undid what the steps did. It is
 * emptied between scenarios.
 */
final class Scratch implements AutoCloseable {
    private final Path root;

    private Scratch(Path root) {
        this.root = root;
    }

    /** Makes a fresh scratch directory under {@code parent}. */
    static Scratch create(Path parent) throws IOException {
        Path root = Files.createTempDirectory(parent, "ferry-tool-check-");
        Scratch scratch = new Scratch(root);
        for (Path dir : List.of(scratch.work(), scratch.home(), scratch.tmp(), scratch.destination())) {
            Files.createDirectories(dir);
        }
        return scratch;
    }

    Path root() {
        return root;
    }

    Path work() {
        return root.resolve("work");
    }

    Path home() {
        return root.resolve("home");
    }

    Path tmp() {
        return root.resolve("tmp");
    }

    /** The fake destination's directory; the check empties it between scenarios. */
    Path destination() {
        return root.resolve("destination");
    }

    /** Every file, directory and link under the root, by relative path, with a fingerprint of its content. */
    Map<String, String> snapshot() {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (!p.equals(root)) {
                    files.put(root.relativize(p).toString(), fingerprint(p));
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("cannot read the scratch directory " + root + ": " + e.getMessage(), e);
        }
        return files;
    }

    /** What changed between two snapshots, one phrase per path ({@code added tmp/state}), at most {@code max}. */
    static List<String> changes(Map<String, String> before, Map<String, String> after, int max) {
        List<String> changes = new ArrayList<>();
        for (var e : after.entrySet()) {
            String was = before.get(e.getKey());
            if (was == null) {
                changes.add("added " + e.getKey());
            } else if (!was.equals(e.getValue())) {
                changes.add("changed " + e.getKey());
            }
        }
        for (String path : before.keySet()) {
            if (!after.containsKey(path)) {
                changes.add("removed " + path);
            }
        }
        if (changes.size() > max) {
            int more = changes.size() - max;
            changes = new ArrayList<>(changes.subList(0, max));
            changes.add("and " + more + " more");
        }
        return changes;
    }

    /** Empties every directory, so that what one scenario left does not meet the next. */
    void clear() throws IOException {
        for (Path dir : List.of(work(), home(), tmp(), destination())) {
            deleteBelow(dir);
        }
    }

    @Override
    public void close() throws IOException {
        deleteBelow(root);
        Files.deleteIfExists(root);
    }

    private static void deleteBelow(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    // A tool may have left a directory without write permission; the check made it, the check removes it.
                    p.toFile().setWritable(true);
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static String fingerprint(Path p) throws IOException {
        if (Files.isSymbolicLink(p)) {
            return "link " + Files.readSymbolicLink(p);
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return "dir";
        }
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return "special";
        }
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                sha.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return Objects.toString(root);
    }
}
