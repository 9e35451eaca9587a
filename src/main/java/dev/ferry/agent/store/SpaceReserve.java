package dev.ferry.agent.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disk space held back for the state database: a file of written (not sparse) bytes beside it,
 * deleted when SQLite finds the disk full, so that the records of a teardown (a rollback's journal
 * entries, a migration's final result) still fit. It is written again before the next write that is
 * not a teardown's, and at clean points.
 *
 * <p>The bytes are not zeros: a file system that compresses or deduplicates would not keep the room
 * for a file of zeros.
 */
final class SpaceReserve {
    private static final Logger log = LoggerFactory.getLogger(SpaceReserve.class);
    private static final int CHUNK = 64 * 1024;

    private final Path file;
    private final long bytes;

    SpaceReserve(Path file, long bytes) {
        if (bytes <= 0 || bytes % CHUNK != 0) {
            throw new IllegalArgumentException("reserve size must be a positive multiple of " + CHUNK + ", was " + bytes);
        }
        this.file = file;
        this.bytes = bytes;
    }

    Path file() {
        return file;
    }

    long bytes() {
        return bytes;
    }

    /** Whether the reserve is there in full. */
    boolean held() {
        try {
            return Files.isRegularFile(file) && Files.size(file) == bytes;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Writes the reserve unless it is there in full. On a disk without room for it, removes the
     * partial file and says so in the log: the agent runs on, without a reserve, until there is room.
     *
     * @return whether the reserve is held now
     */
    boolean fill() {
        if (held()) {
            return true;
        }
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
        new Random(bytes).nextBytes(chunk.array());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long written = 0; written < bytes; written += CHUNK) {
                chunk.rewind();
                while (chunk.hasRemaining()) {
                    ch.write(chunk);
                }
            }
            ch.force(true);
            return true;
        } catch (IOException e) {
            log.warn("cannot hold {} in reserve for the state database in {}: {}; a full disk could keep the agent"
                    + " from recording a rollback until there is room", bytes, file, e.getMessage());
            release();
            return false;
        }
    }

    /** Deletes the reserve, giving its room to the state database; true if there was one to give. */
    boolean release() {
        try {
            return Files.deleteIfExists(file);
        } catch (IOException e) {
            log.error("cannot delete the state database's reserve {}: {}", file, e.getMessage());
            return false;
        }
    }
}
