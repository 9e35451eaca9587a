package dev.ferry.guest;

import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the test guest (see {@link InitScript} for what it does) and keeps it in a cache.
 *
 * <p>A cache entry is named after the kernel package version and a hash of everything else that
 * goes into the guest (init script, module list, command line, busybox), so a second build only
 * asks apt which kernel version is current ({@code apt-cache policy}, a local look-up well under a
 * second) and returns. A new kernel in the package lists gives a new entry on the next build; the
 * entries of other versions are then removed. With no usable package lists but a matching entry
 * in the cache, that entry is used, so an offline machine keeps working.
 *
 * <p>A build happens in a staging directory inside the cache and is renamed into place in one
 * step, so a killed build never leaves a half entry; staging directories older than an hour are
 * leftovers of such builds and are removed. Thread-safe; concurrent builds in several JVMs are
 * safe too (the first rename wins, the others discard their work).
 */
public final class GuestKit {
    private static final Logger log = LoggerFactory.getLogger(GuestKit.class);

    /** What the guest must have, built in or as modules: virtio transport, disk and NIC, TPM. */
    static final List<String> WANTED_MODULES = List.of("virtio_pci", "virtio_blk", "virtio_net", "tpm_tis", "tpm_crb");
    static final String KERNEL_CMDLINE = "console=ttyS0 panic=-1";

    private static final Path HOST_BUSYBOX = Path.of("/bin/busybox");
    private static final String STAGING_PREFIX = ".build-";
    private static final Duration STALE_STAGING = Duration.ofHours(1);
    private static final String KERNEL_FILE = "vmlinuz";
    private static final String INITRAMFS_FILE = "initramfs.cpio.gz";
    private static final String INFO_FILE = "guest.properties";

    private final Path cacheDir;
    private final ProcessRunner runner;
    private final Path busybox;
    private final Clock clock;

    GuestKit(Path cacheDir, ProcessRunner runner, Path busybox, Clock clock) {
        this.cacheDir = cacheDir;
        this.runner = runner;
        this.busybox = busybox;
        this.clock = clock;
    }

    /** A kit caching in {@code $XDG_CACHE_HOME/ferry/guest}, or {@code ~/.cache/ferry/guest}. */
    public static GuestKit inUserCache(ProcessRunner runner) {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".cache");
        return at(base.resolve("ferry").resolve("guest"), runner);
    }

    /** A kit caching in {@code cacheDir}, taking busybox from the host's busybox-static package. */
    public static GuestKit at(Path cacheDir, ProcessRunner runner) {
        return new GuestKit(cacheDir, runner, HOST_BUSYBOX, Clock.systemUTC());
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** Returns the cached guest for the current kernel package, building it first if needed. */
    public GuestArtifacts build() throws GuestBuildException {
        byte[] busyboxBinary = readBusybox();
        String recipe = recipeHash(busyboxBinary);
        KernelPackage kernels = new KernelPackage(runner);
        String version;
        try {
            version = kernels.candidateVersion();
        } catch (GuestBuildException e) {
            Optional<Path> cached = newestEntry(recipe);
            if (cached.isEmpty()) {
                throw e;
            }
            log.warn("{}; using the cached test guest in {}", e.getMessage(), cached.get());
            return load(cached.get());
        }
        Path entry = cacheDir.resolve(entryName(version, recipe));
        if (Files.isRegularFile(entry.resolve(INFO_FILE))) {
            return load(entry);
        }
        return buildInto(entry, version, busyboxBinary, kernels);
    }

    private GuestArtifacts buildInto(Path entry, String version, byte[] busyboxBinary, KernelPackage kernels)
            throws GuestBuildException {
        log.info("building the test guest from {} {} into {}", KernelPackage.METAPACKAGE, version, entry);
        Path staging = null;
        Path work = null;
        try {
            Files.createDirectories(cacheDir);
            removeStaleStaging();
            staging = Files.createTempDirectory(cacheDir, STAGING_PREFIX);
            work = Files.createTempDirectory("ferry-guest-kernel-");
            Path unpacked = kernels.fetchAndUnpack(version, work);
            KernelTree tree = KernelTree.locate(unpacked, runner, Files.createDirectories(work.resolve("scratch")));
            List<Initramfs.Module> modules = tree.modulesFor(WANTED_MODULES);
            List<String> order = modules.stream().map(Initramfs.Module::name).toList();
            Files.copy(tree.vmlinuz(), staging.resolve(KERNEL_FILE));
            try (OutputStream out = Files.newOutputStream(staging.resolve(INITRAMFS_FILE))) {
                Initramfs.write(out, busyboxBinary, InitScript.render(order), modules);
            }
            writeInfo(staging.resolve(INFO_FILE), tree.version(), version, order);
            publish(staging, entry);
            staging = null;
            removeOtherEntries(entry);
            log.info("test guest built: kernel {}, modules {}", tree.version(), order);
            return load(entry);
        } catch (IOException e) {
            throw new GuestBuildException("cannot build the test guest in " + cacheDir + ": " + e.getMessage(), e);
        } finally {
            deleteQuietly(work);
            deleteQuietly(staging);
        }
    }

    /** Renames the staging directory into place; if another build got there first, keeps theirs. */
    private static void publish(Path staging, Path entry) throws IOException {
        try {
            Files.move(staging, entry, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileSystemException e) {
            if (!Files.isRegularFile(entry.resolve(INFO_FILE))) {
                throw e;
            }
            deleteQuietly(staging);
        }
    }

    private byte[] readBusybox() throws GuestBuildException {
        byte[] binary;
        try {
            binary = Files.readAllBytes(busybox);
        } catch (IOException e) {
            throw new GuestBuildException("cannot read " + busybox + " for the test guest: " + e.getMessage()
                    + "; install the busybox-static package", e);
        }
        Elf elf;
        try {
            elf = Elf.parse(busybox.toString(), binary);
        } catch (IllegalArgumentException e) {
            throw new GuestBuildException(e.getMessage() + "; install the busybox-static package", e);
        }
        if (!elf.isX86_64() || !elf.isStatic()) {
            throw new GuestBuildException(busybox + " is not a static x86-64 executable, and the guest has no "
                    + "C library; install the busybox-static package (not busybox)");
        }
        return binary;
    }

    private static String recipeHash(byte[] busyboxBinary) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(("format " + GuestRecord.FORMAT_VERSION + "\n").getBytes(StandardCharsets.UTF_8));
            digest.update(InitScript.TEMPLATE.getBytes(StandardCharsets.UTF_8));
            digest.update(String.join(" ", InitScript.APPLETS).getBytes(StandardCharsets.UTF_8));
            digest.update(String.join(" ", WANTED_MODULES).getBytes(StandardCharsets.UTF_8));
            digest.update(KERNEL_CMDLINE.getBytes(StandardCharsets.UTF_8));
            digest.update(busyboxBinary);
            return HexFormat.of().formatHex(digest.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    static String entryName(String packageVersion, String recipe) {
        return packageVersion.replaceAll("[^A-Za-z0-9.+-]", "_") + "-" + recipe;
    }

    private static void writeInfo(Path file, String kernelVersion, String packageVersion, List<String> modules)
            throws IOException {
        Properties info = new Properties();
        info.setProperty("kernelVersion", kernelVersion);
        info.setProperty("packageVersion", packageVersion);
        info.setProperty("modules", String.join(" ", modules));
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            info.store(out, "Ferry test guest");
        }
    }

    private static GuestArtifacts load(Path entry) throws GuestBuildException {
        Properties info = new Properties();
        try (Reader in = Files.newBufferedReader(entry.resolve(INFO_FILE), StandardCharsets.UTF_8)) {
            info.load(in);
        } catch (IOException e) {
            throw new GuestBuildException("cannot read the cached test guest in " + entry + ": " + e.getMessage()
                    + "; delete that directory to rebuild it", e);
        }
        return new GuestArtifacts(entry.resolve(KERNEL_FILE), entry.resolve(INITRAMFS_FILE),
                info.getProperty("kernelVersion"), KERNEL_CMDLINE);
    }

    private Optional<Path> newestEntry(String recipe) {
        return entries().stream()
                .filter(p -> p.getFileName().toString().endsWith("-" + recipe))
                .filter(p -> Files.isRegularFile(p.resolve(INFO_FILE)))
                .max(Comparator.comparing(GuestKit::modified));
    }

    /**
     * Removes builds of the same recipe for other kernel versions: a newer kernel replaces them.
     * Builds of other recipes stay, since another Ferry version on this machine may still use them.
     */
    private void removeOtherEntries(Path keep) {
        String name = keep.getFileName().toString();
        String recipeSuffix = name.substring(name.lastIndexOf('-'));
        for (Path entry : entries()) {
            if (!entry.equals(keep) && entry.getFileName().toString().endsWith(recipeSuffix)) {
                deleteQuietly(entry);
            }
        }
    }

    private void removeStaleStaging() throws IOException {
        Instant cutoff = clock.instant().minus(STALE_STAGING);
        try (Stream<Path> children = Files.list(cacheDir)) {
            for (Path child : children.toList()) {
                if (child.getFileName().toString().startsWith(STAGING_PREFIX) && modified(child).isBefore(cutoff)) {
                    deleteQuietly(child);
                }
            }
        }
    }

    private List<Path> entries() {
        if (!Files.isDirectory(cacheDir)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(cacheDir)) {
            return children.filter(Files::isDirectory)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .toList();
        } catch (IOException e) {
            log.warn("cannot list the guest cache {}: {}", cacheDir, e.getMessage());
            return new ArrayList<>();
        }
    }

    private static Instant modified(Path path) {
        try {
            return Files.getLastModifiedTime(path).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    static void deleteQuietly(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", root, e.getMessage());
        }
    }
}
