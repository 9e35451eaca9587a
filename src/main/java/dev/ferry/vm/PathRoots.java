package dev.ferry.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The directories whose files this host lets VMs use, and the rule that confines every host path
 * a spec, a save or a restore names to them. A path is judged by what it is after symlinks and
 * {@code ..} are resolved ({@link Path#toRealPath}), never by how it is spelled, and callers hand
 * QEMU the resolved path, so that a path swapped for a symlink after the check does not change
 * what QEMU opens.
 *
 * <ul>
 *   <li><b>storage</b>: disk images, swtpm key files, external TPM sockets; {@code <dataDir>/images}
 *       (where copies of migrated disks go) is always one.</li>
 *   <li><b>boot</b>: kernels and initrds, which may also come from a storage root.</li>
 *   <li><b>saves</b>: where save files are written and read from; {@code <dataDir>/saves} is always one.</li>
 *   <li><b>blockDevices</b>: host block devices a disk may be, each listed (or its directory). A device
 *       node is never accepted because it lies in a storage root: raw host disks must be named.</li>
 * </ul>
 * The rest of the data directory (the state database, run directories, logs) is never a VM's,
 * whatever the roots say. A root that does not exist holds nothing; roots are resolved at each check.
 */
public final class PathRoots {

    /** What a VM (or a save) does with a path; each use has its roots and the kinds of file it accepts. */
    public enum Use {
        /** A disk: an image file in a storage root, or a listed block device. */
        DISK,
        /** A kernel or initrd: a file in a boot or storage root. */
        BOOT,
        /** An swtpm state encryption key: a file in a storage root. */
        KEY,
        /** An external TPM emulator's control socket, in a storage root (it may not exist yet). */
        SOCKET,
        /** A save file: written or read in a saves root. */
        SAVE
    }

    private final Path dataDir;
    private final List<Path> storage;
    private final List<Path> boot;
    private final List<Path> saves;
    private final List<Path> blockDevices;

    private PathRoots(Path dataDir, List<Path> storage, List<Path> boot, List<Path> saves, List<Path> blockDevices) {
        this.dataDir = absolute(dataDir);
        this.storage = withImplied(storage, imagesDir(this.dataDir));
        this.boot = withImplied(boot, null);
        this.saves = withImplied(saves, savesDir(this.dataDir));
        this.blockDevices = withImplied(blockDevices, null);
    }

    /** The roots as configured; {@code <dataDir>/images} and {@code <dataDir>/saves} are added. All paths absolute. */
    public static PathRoots of(Path dataDir, List<Path> storage, List<Path> boot, List<Path> saves,
                               List<Path> blockDevices) {
        return new PathRoots(dataDir, storage, boot, saves, blockDevices);
    }

    /** What an agent whose configuration names no roots allows: its data directory's images and saves only. */
    public static PathRoots dataDirOnly(Path dataDir) {
        return of(dataDir, List.of(), List.of(), List.of(), List.of());
    }

    /** Where copies of migrated disks go, always a storage root. */
    public static Path imagesDir(Path dataDir) {
        return dataDir.resolve("images");
    }

    /** The saves root every agent has. */
    public static Path savesDir(Path dataDir) {
        return dataDir.resolve("saves");
    }

    public List<Path> storage() {
        return storage;
    }

    public List<Path> boot() {
        return boot;
    }

    public List<Path> saves() {
        return saves;
    }

    public List<Path> blockDevices() {
        return blockDevices;
    }

    /**
     * The resolved path of an existing file that {@code field} names for {@code use}; refused when it is
     * outside that use's roots, of a kind the use does not take, part of the agent's state, or missing.
     */
    public Path existing(Use use, String field, Path given) throws PathRefusedException {
        Path real = realPath(field, given);
        FileKind kind = FileKind.of(real);
        switch (use) {
            case DISK -> {
                if (kind == FileKind.BLOCK_DEVICE) {
                    requireListedDevice(field, given, real);
                    return real;
                }
                requireKind(field, given, real, kind, FileKind.REGULAR_FILE, "a disk must be an image file inside a"
                        + " storage root or a host block device listed under blockDevices");
            }
            case BOOT, KEY, SAVE -> requireKind(field, given, real, kind, FileKind.REGULAR_FILE, "give a file");
            case SOCKET -> {
                if (kind.deviceNode() || kind == FileKind.DIRECTORY) {
                    throw refused(field, given, real, "is " + kind.described() + ", not a Unix socket");
                }
            }
            default -> throw new IllegalStateException("Invalid path use: " + use);
        }
        requireInside(use, field, given, real);
        return real;
    }

    /**
     * Where a file that does not exist yet will be, resolved through its nearest existing directory:
     * a save file about to be written, or a disk copy an incoming migration will make. Refused as
     * {@link #existing} refuses, and when the name is taken by a symlink.
     */
    public Path toCreate(Use use, String field, Path given) throws PathRefusedException {
        Path absolute = unnormalized(given);
        Path name = absolute.getFileName();
        if (name == null || name.toString().equals("..") || name.toString().equals(".")) {
            throw new PathRefusedException(field, given, null, false, given + " names no file; give the file's"
                    + " absolute path");
        }
        if (Files.isSymbolicLink(absolute)) {
            throw new PathRefusedException(field, given, null, false, given + " is a symbolic link; name a new file"
                    + " (what the link points to is not written through it)");
        }
        Path existing = absolute;
        List<Path> below = new ArrayList<>();
        // Walks up without following links: a dangling link on the way is refused below, not written through.
        while (!Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            below.add(0, existing.getFileName());
            existing = existing.getParent();
            if (existing == null) {
                throw new PathRefusedException(field, given, null, true, given + " has no existing directory above it");
            }
        }
        if (below.stream().anyMatch(p -> p.toString().equals(".."))) {
            throw new PathRefusedException(field, given, null, true, given + " climbs with '..' out of a directory"
                    + " that does not exist; give a path whose directories exist");
        }
        Path real = realPath(field, given, existing);
        for (Path p : below) {
            real = real.resolve(p);
        }
        requireInside(use, field, given, real);
        return real;
    }

    private Path realPath(String field, Path given) throws PathRefusedException {
        return realPath(field, given, unnormalized(given));
    }

    /**
     * The path as given, made absolute but not normalized: {@code link/..} is the link target's parent,
     * which only resolving tells; normalizing first would judge another file than the one opened.
     */
    private static Path unnormalized(Path given) {
        return given.isAbsolute() ? given : given.toAbsolutePath();
    }

    private static Path realPath(String field, Path given, Path path) throws PathRefusedException {
        try {
            return path.toRealPath();
        } catch (NoSuchFileException e) {
            throw new PathRefusedException(field, given, null, true, given + " does not exist on this host");
        } catch (IOException | SecurityException e) {
            throw new PathRefusedException(field, given, null, false, given + " cannot be resolved on this host ("
                    + e.getMessage() + "); a path a VM uses must resolve to a file the agent can see");
        }
    }

    private static void requireKind(String field, Path given, Path real, FileKind kind, FileKind wanted, String fix)
            throws PathRefusedException {
        if (kind != wanted) {
            throw refused(field, given, real, "is " + kind.described() + ", not " + wanted.described() + "; " + fix);
        }
    }

    private void requireInside(Use use, String field, Path given, Path real) throws PathRefusedException {
        List<Path> roots = rootsFor(use);
        if (!inside(real, roots)) {
            throw refused(field, given, real, "is outside " + describeRoots(use) + "; " + fixFor(use));
        }
        Optional<Path> data = resolvedRoot(dataDir);
        if (data.isPresent() && real.startsWith(data.get())
                && !inside(real, List.of(imagesDir(dataDir), savesDir(dataDir)))) {
            throw refused(field, given, real, "is inside the agent's data directory " + dataDir + ", which holds the"
                    + " agent's own state; VMs may use only " + imagesDir(dataDir) + " and " + savesDir(dataDir)
                    + " there");
        }
    }

    private void requireListedDevice(String field, Path given, Path real) throws PathRefusedException {
        for (Path entry : blockDevices) {
            Optional<Path> listed = existingReal(entry);
            if (listed.isEmpty()) {
                continue;
            }
            if (listed.get().equals(real) || Files.isDirectory(listed.get()) && anyEntryIs(entry, real)) {
                return;
            }
        }
        throw refused(field, given, real, "is a host block device not listed under blockDevices " + blockDevices
                + "; a VM gets a raw host device only when the agent configuration lists it (or its directory)"
                + " under blockDevices");
    }

    /** Whether an entry of directory {@code dir} (e.g. {@code /dev/vg0/web1}) resolves to {@code real}. */
    private static boolean anyEntryIs(Path dir, Path real) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.anyMatch(e -> existingReal(e).map(real::equals).orElse(false));
        } catch (IOException e) {
            return false;
        }
    }

    private List<Path> rootsFor(Use use) {
        return switch (use) {
            case DISK, KEY, SOCKET -> storage;
            case BOOT -> Stream.concat(boot.stream(), storage.stream()).toList();
            case SAVE -> saves;
        };
    }

    private String describeRoots(Use use) {
        return switch (use) {
            case DISK, KEY, SOCKET -> "the storage roots " + storage;
            case BOOT -> "the boot roots " + boot + " and the storage roots " + storage;
            case SAVE -> "the saves roots " + saves;
        };
    }

    private static String fixFor(Use use) {
        return switch (use) {
            case DISK -> "move the image into one of them, or add its directory to storage in the agent configuration";
            case BOOT -> "put the file into one of them, or add its directory to boot in the agent configuration";
            case KEY, SOCKET -> "put it into one of them, or add its directory to storage in the agent configuration";
            case SAVE -> "use one of them, or add the directory to saves in the agent configuration";
        };
    }

    private static boolean inside(Path real, List<Path> roots) {
        return roots.stream().map(PathRoots::resolvedRoot).flatMap(Optional::stream).anyMatch(real::startsWith);
    }

    private static Optional<Path> existingReal(Path p) {
        try {
            return Optional.of(p.toRealPath());
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }

    /**
     * A root as it resolves now. One that does not exist yet resolves through its nearest existing
     * directory: it holds no file, but a file to be created in it (the first disk copy into
     * {@code <dataDir>/images}) is judged where it will land.
     */
    private static Optional<Path> resolvedRoot(Path root) {
        Path existing = root;
        List<Path> below = new ArrayList<>();
        while (existing != null && !Files.exists(existing)) {
            below.add(0, existing.getFileName());
            existing = existing.getParent();
        }
        if (existing == null) {
            return Optional.empty();
        }
        try {
            Path real = existing.toRealPath();
            for (Path p : below) {
                real = real.resolve(p);
            }
            return Optional.of(real);
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }

    private static PathRefusedException refused(String field, Path given, Path real, String problem) {
        return new PathRefusedException(field, given, real, false, given + " (resolved: " + real + ") " + problem);
    }

    private static List<Path> withImplied(List<Path> configured, Path implied) {
        LinkedHashSet<Path> all = new LinkedHashSet<>();
        if (implied != null) {
            all.add(implied);
        }
        Objects.requireNonNull(configured, "roots").forEach(p -> all.add(absolute(p)));
        return List.copyOf(all);
    }

    private static Path absolute(Path p) {
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException("a root must be an absolute path, was " + p);
        }
        return p.normalize();
    }

    @Override
    public String toString() {
        return "storage " + storage + ", boot " + boot + ", saves " + saves + ", blockDevices " + blockDevices;
    }

    /** What a resolved path is, from its mode bits (a resolved path is never a symlink). */
    enum FileKind {
        REGULAR_FILE("a regular file"), DIRECTORY("a directory"), BLOCK_DEVICE("a block device"),
        CHARACTER_DEVICE("a character device"), FIFO("a named pipe"), SOCKET("a Unix socket"), OTHER("an unknown kind of file");

        private final String described;

        FileKind(String described) {
            this.described = described;
        }

        String described() {
            return described;
        }

        boolean deviceNode() {
            return this == BLOCK_DEVICE || this == CHARACTER_DEVICE;
        }

        static FileKind of(Path real) {
            int mode;
            try {
                mode = (Integer) Files.getAttribute(real, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return OTHER;
            }
            return switch (mode & 0170000) {
                case 0100000 -> REGULAR_FILE;
                case 0040000 -> DIRECTORY;
                case 0060000 -> BLOCK_DEVICE;
                case 0020000 -> CHARACTER_DEVICE;
                case 0010000 -> FIFO;
                case 0140000 -> SOCKET;
                default -> OTHER;
            };
        }
    }
}
