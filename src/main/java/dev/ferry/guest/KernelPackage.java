package dev.ferry.guest;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The distribution's cloud kernel, fetched with {@code apt-get download} and unpacked with
 * {@code dpkg-deb -x}: nothing is installed, no root is needed, but apt's package lists must be
 * there ({@code apt-get update}). The metapackage only depends on the versioned image package,
 * which holds the kernel and its modules.
 */
final class KernelPackage {
    static final String METAPACKAGE = "linux-image-cloud-amd64";

    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(10);
    private static final Pattern CANDIDATE = Pattern.compile("(?m)^\\s*Candidate:\\s*(\\S+)\\s*$");
    private static final Pattern IMAGE_DEPENDENCY =
            Pattern.compile("(linux-image-[A-Za-z0-9.+-]+)\\s*(?:\\(\\s*=\\s*([^)\\s]+)\\s*\\))?");
    private static final String UPDATE_HINT = "run 'apt-get update' (as root) so apt's package lists are present";

    private final ProcessRunner runner;

    KernelPackage(ProcessRunner runner) {
        this.runner = runner;
    }

    /**
     * The version apt would fetch now. A local look-up in the package lists (well under a second),
     * so a warm cache costs no download.
     */
    String candidateVersion() throws GuestBuildException {
        ProcResult result = run(Command.of("apt-cache", "policy", METAPACKAGE).timeout(QUERY_TIMEOUT));
        if (!result.ok()) {
            throw new GuestBuildException("cannot ask apt for " + METAPACKAGE + ": " + result.describe());
        }
        return candidateIn(result.stdout().text());
    }

    /** The {@code Candidate:} of {@code apt-cache policy} output; apt prints nothing for a package its lists lack. */
    static String candidateIn(String policy) throws GuestBuildException {
        Matcher candidate = CANDIDATE.matcher(policy);
        if (!candidate.find() || candidate.group(1).equals("(none)")) {
            throw new GuestBuildException("apt knows no version of " + METAPACKAGE + " to download; " + UPDATE_HINT);
        }
        return candidate.group(1);
    }

    /** Downloads the metapackage at {@code version} and its image package into {@code workDir}, and unpacks the image there. */
    Path fetchAndUnpack(String version, Path workDir) throws GuestBuildException {
        Path downloads = mkdir(workDir.resolve("debs"));
        Path meta = download(METAPACKAGE + "=" + version, downloads);
        ProcResult fields = run(Command.of("dpkg-deb", "-f", meta.toString(), "Depends").timeout(QUERY_TIMEOUT));
        if (!fields.ok()) {
            throw new GuestBuildException("cannot read the dependencies of " + meta + ": " + fields.describe());
        }
        String image = imageDependency(fields.stdout().text())
                .orElseThrow(() -> new GuestBuildException(METAPACKAGE + " " + version
                        + " depends on no linux-image package (Depends: " + fields.stdout().text().strip() + ")"));
        Path deb = download(image, downloads);
        Path unpacked = mkdir(workDir.resolve("unpacked"));
        ProcResult unpack = run(Command.of("dpkg-deb", "-x", deb.toString(), unpacked.toString()).timeout(DOWNLOAD_TIMEOUT));
        if (!unpack.ok()) {
            throw new GuestBuildException("cannot unpack " + deb + ": " + unpack.describe());
        }
        return unpacked;
    }

    /** {@code name=version} of the first linux-image package in a Depends field, or just the name. */
    static Optional<String> imageDependency(String depends) {
        for (String alternative : depends.split("[,|]")) {
            Matcher m = IMAGE_DEPENDENCY.matcher(alternative.strip());
            if (m.lookingAt()) {
                return Optional.of(m.group(2) == null ? m.group(1) : m.group(1) + "=" + m.group(2));
            }
        }
        return Optional.empty();
    }

    private Path download(String spec, Path dir) throws GuestBuildException {
        Set<Path> before = debs(dir);
        ProcResult result = run(Command.of("apt-get", "download", "-q", spec).workDir(dir).timeout(DOWNLOAD_TIMEOUT));
        if (!result.ok()) {
            String why = result.stderr().text().toLowerCase(Locale.ROOT);
            boolean listsMissing = why.contains("unable to locate package") || why.contains("no installation candidate")
                    || why.contains("can't select") || why.contains("not found");
            throw new GuestBuildException("cannot download " + spec + ": " + result.describe()
                    + (listsMissing ? "; " + UPDATE_HINT : ""));
        }
        Set<Path> added = debs(dir);
        added.removeAll(before);
        if (added.size() != 1) {
            throw new GuestBuildException("apt-get download " + spec + " left " + added.size() + " new .deb files in " + dir + ", expected 1");
        }
        return added.iterator().next();
    }

    private static Set<Path> debs(Path dir) throws GuestBuildException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".deb")).collect(Collectors.toCollection(HashSet::new));
        } catch (IOException e) {
            throw new GuestBuildException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private ProcResult run(Command command) throws GuestBuildException {
        try {
            return runner.run(command);
        } catch (IOException e) {
            throw new GuestBuildException("cannot run " + command.program() + ": " + e.getMessage()
                    + "; the guest kit needs apt and dpkg (a Debian or Ubuntu host)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestBuildException("interrupted while running " + command.program(), e);
        }
    }

    private static Path mkdir(Path dir) throws GuestBuildException {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new GuestBuildException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }
}
