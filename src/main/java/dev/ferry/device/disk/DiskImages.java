package dev.ferry.device.disk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Objects;

/**
 * Disk images on this host, through {@code qemu-img}: describe one, create an empty copy target,
 * delete a partial one, measure free space, compare two.
 */
public final class DiskImages {
    private static final Duration QEMU_IMG_TIMEOUT = Duration.ofMinutes(2);
    /** File type bits of {@code st_mode} and the value that marks a block device. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;
    private static final int INFO_CAPTURE_BYTES = 1024 * 1024;

    private final ProcessRunner runner;
    private final ObjectMapper mapper = new ObjectMapper();

    public DiskImages(ProcessRunner runner) {
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    /**
     * Describes {@code image}. Works while a QEMU uses it (the lock is shared, the numbers may be a
     * moment old). For an image with a backing chain the actual size counts the whole chain, since a
     * full mirror copies every layer into one image.
     */
    public DiskImage info(Path image) throws DiskException {
        if (!Files.exists(image)) {
            throw new DiskException("image " + image + " does not exist; check the disk's path");
        }
        ProcResult result = run(Command.of("qemu-img", "info", "--output=json", "--force-share", "--backing-chain",
                image.toString()).captureBytes(INFO_CAPTURE_BYTES), "describe image " + image);
        if (result.stdout().truncated()) {
            throw new DiskException("qemu-img's description of image " + image + " is longer than "
                    + INFO_CAPTURE_BYTES + " bytes; is its backing chain that deep?");
        }
        try {
            return parseInfo(image, mapper.readTree(result.stdout().text()), isBlockDevice(image));
        } catch (IOException | IllegalArgumentException e) {
            throw new DiskException("cannot read qemu-img's description of image " + image + ": " + e.getMessage(), e);
        }
    }

    /**
     * Creates an empty image of {@code format} and {@code virtualSize} bytes, the target of a copy.
     * Refuses to overwrite anything: a file at {@code image} is a leftover or somebody else's disk.
     */
    public void create(Path image, String format, long virtualSize) throws DiskException {
        if (virtualSize <= 0) {
            throw new IllegalArgumentException("virtual size of new image " + image + " must be positive, was " + virtualSize);
        }
        if (Files.exists(image)) {
            throw new DiskException("cannot create image " + image + ": a file is already there; remove it if it is"
                    + " left over from an earlier migration, or give the disk another path");
        }
        run(Command.of("qemu-img", "create", "-q", "-f", format, image.toString(), Long.toString(virtualSize)),
                "create " + format + " image " + image);
    }

    /**
     * Creates an empty image as {@link #create} does, then reserves {@code reserveBytes} of disk
     * blocks for it from its start without changing its size ({@code fallocate --keep-size}): a copy
     * written into it later never finds the file system full, and a qcow2 image grows into the
     * reserved blocks past its end as clusters are allocated. Without room, fails naming the bytes
     * needed and free and the file system, and leaves no file behind.
     */
    public void createPreallocated(Path image, String format, long virtualSize, long reserveBytes) throws DiskException {
        if (reserveBytes <= 0) {
            throw new IllegalArgumentException("bytes to reserve for " + image + " must be positive, was " + reserveBytes);
        }
        boolean someoneElses = Files.exists(image);
        try {
            create(image, format, virtualSize);
            ProcResult result = runRaw(Command.of("fallocate", "--keep-size", "--offset", "0", "--length",
                    Long.toString(reserveBytes), image.toString()), "preallocate " + image);
            if (!result.ok()) {
                Path dir = image.toAbsolutePath().getParent();
                throw new DiskException(result.stderr().text().contains("No space left") ? noRoom(image, reserveBytes)
                        : "cannot preallocate " + DiskSpaceRule.bytes(reserveBytes) + " for " + image + " on "
                        + fileSystem(dir) + ": " + result.describe() + "; the file system must support fallocate"
                        + " (ext4, xfs, btrfs and tmpfs do)");
            }
        } catch (DiskException e) {
            if (someoneElses) {
                throw e;
            }
            delete(image);
            if (e.getMessage().contains("No space left")) {
                throw new DiskException(noRoom(image, reserveBytes), e);
            }
            throw e;
        }
    }

    private String noRoom(Path image, long bytes) {
        Path dir = image.toAbsolutePath().getParent();
        String free;
        try {
            free = DiskSpaceRule.bytes(usableSpace(dir));
        } catch (DiskException e) {
            free = "unknown";
        }
        return "no room for " + image + " on " + fileSystem(dir) + ": needs " + DiskSpaceRule.bytes(bytes) + ", "
                + free + " free; free space there or move the images directory to a larger file system";
    }

    /** The file system holding {@code dir}, as people name it: mount point and device. */
    static String fileSystem(Path dir) {
        try {
            return "file system " + Files.getFileStore(dir);
        } catch (IOException e) {
            return "the file system of " + dir;
        }
    }

    /** Deletes {@code image}; true if it existed. For removing a partial copy after a failure. */
    public boolean delete(Path image) throws DiskException {
        try {
            return Files.deleteIfExists(image);
        } catch (IOException e) {
            throw new DiskException("cannot delete image " + image + ": " + e.getMessage()
                    + "; remove it by hand before migrating this disk here again", e);
        }
    }

    /** Bytes a new file in {@code dir} may take: what the file system grants this user. */
    public long usableSpace(Path dir) throws DiskException {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            throw new DiskException("cannot measure free space in " + dir + ": " + e.getMessage()
                    + "; check that the directory exists", e);
        }
    }

    /** Whether the guest sees the same bytes in both images (formats may differ). */
    public boolean identical(Path first, Path second) throws DiskException {
        ProcResult result = runRaw(Command.of("qemu-img", "compare", "-q", first.toString(), second.toString()),
                "compare images " + first + " and " + second);
        // qemu-img compare: 0 identical, 1 different, anything else is an error.
        return switch (result.ok() ? 0 : result.exitCode()) {
            case 0 -> true;
            case 1 -> false;
            default -> throw new DiskException("cannot compare images " + first + " and " + second + ": "
                    + result.describe());
        };
    }

    static DiskImage parseInfo(Path image, JsonNode info, boolean blockDevice) {
        // --backing-chain prints an array, top image first; a lone object is accepted too.
        JsonNode top = info.isArray() ? info.path(0) : info;
        if (!top.hasNonNull("format") || !top.hasNonNull("virtual-size")) {
            throw new IllegalArgumentException("no format or virtual-size in " + top);
        }
        long actual = top.path("actual-size").asLong(0);
        for (int i = 1; i < info.size() && info.isArray(); i++) {
            actual += info.get(i).path("actual-size").asLong(0);
        }
        return new DiskImage(image, top.get("format").asText(), top.get("virtual-size").asLong(), actual, blockDevice);
    }

    static boolean isBlockDevice(Path path) throws DiskException {
        try {
            Object mode = Files.getAttribute(path, "unix:mode");
            return ((Integer) mode & S_IFMT) == S_IFBLK;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // No unix attribute view: anything that is not a file, directory or link is a device here.
            try {
                return Files.readAttributes(path, BasicFileAttributes.class).isOther();
            } catch (IOException io) {
                throw new DiskException("cannot read the file type of " + path + ": " + io.getMessage(), io);
            }
        } catch (IOException e) {
            throw new DiskException("cannot read the file type of " + path + ": " + e.getMessage(), e);
        }
    }

    private ProcResult run(Command command, String what) throws DiskException {
        ProcResult result = runRaw(command, what);
        if (!result.ok()) {
            throw new DiskException("cannot " + what + ": " + result.describe());
        }
        return result;
    }

    private ProcResult runRaw(Command command, String what) throws DiskException {
        try {
            return runner.run(command.timeout(QEMU_IMG_TIMEOUT));
        } catch (IOException e) {
            throw new DiskException("cannot " + what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DiskException("interrupted while trying to " + what, e);
        }
    }
}
