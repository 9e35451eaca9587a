package dev.ferry.lab;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;

/**
 * A small file system of its own (a size-limited tmpfs) mounted on a directory, typically an
 * agent's data directory before the lab starts it, so that a test can fill it: {@link #fill} eats
 * every free byte with a filler file, {@link #unfill} gives them back. Mounting needs root (or
 * {@code CAP_SYS_ADMIN}); {@link #mount} says why it could not, for the test to skip with.
 */
public final class SmallDisk implements AutoCloseable {
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);

    private final ProcessRunner runner = new ProcessRunner();
    private final Path dir;
    private final Path filler;

    private SmallDisk(Path dir) {
        this.dir = dir;
        this.filler = dir.resolve("filler");
    }

    /**
     * A tmpfs of {@code mib} MiB on {@code dir} (created if needed), or empty with why not in
     * {@code whyNot[0]} where this platform cannot mount one.
     */
    public static Optional<SmallDisk> mount(Path dir, int mib, String[] whyNot) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        SmallDisk disk = new SmallDisk(dir.toAbsolutePath());
        ProcResult r = disk.runner.run(Command.of("mount", "-t", "tmpfs", "-o", "size=" + mib + "m,mode=0755",
                "ferry-small-disk", disk.dir.toString()).timeout(MOUNT_TIMEOUT));
        if (!r.ok()) {
            whyNot[0] = "cannot mount a " + mib + " MiB tmpfs on " + dir + " (needs root or CAP_SYS_ADMIN): " + r.describe();
            return Optional.empty();
        }
        return Optional.of(disk);
    }

    public Path dir() {
        return dir;
    }

    /** The file {@link #fill} writes. */
    public Path filler() {
        return filler;
    }

    /** Bytes still free. */
    public long free() throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }

    /** Writes a filler file until the file system has not one byte left. */
    public void fill() throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(1024 * 1024);
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            for (int size = chunk.capacity(); size >= 512; size /= 2) {
                while (true) {
                    chunk.clear().limit(size);
                    try {
                        while (chunk.hasRemaining()) {
                            ch.write(chunk);
                        }
                    } catch (IOException full) {
                        break;
                    }
                }
            }
        }
    }

    /** Removes the filler. */
    public void unfill() throws IOException {
        Files.deleteIfExists(filler);
    }

    /** Unmounts; whatever the file system held is gone. */
    @Override
    public void close() throws IOException, InterruptedException {
        unfill();
        ProcResult r = runner.run(Command.of("umount", dir.toString()).timeout(MOUNT_TIMEOUT));
        if (!r.ok()) {
            throw new IOException("cannot unmount the small disk on " + dir + ": " + r.describe());
        }
    }
}
