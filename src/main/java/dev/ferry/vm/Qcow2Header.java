package dev.ferry.vm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The files a qcow2 image makes QEMU open besides itself, read from its header: the backing file
 * (with its format, when the image declares it) and the external data file. QEMU opens these by the
 * names in the header, so a path rule that looked only at the spec's path would let an image inside
 * a root name any file of the host. Read here rather than with {@code qemu-img info}, which would
 * open (and, for a {@code json:} name, connect to) what the header names.
 *
 * @param backingFile   the backing file's name as written, or null
 * @param backingFormat the backing file's declared format, or null when QEMU would probe it
 * @param dataFile      the external data file's name as written, or null
 */
record Qcow2Header(String backingFile, String backingFormat, String dataFile) {
    private static final int MAGIC = 0x514649fb;
    private static final int EXT_END = 0;
    private static final int EXT_BACKING_FORMAT = 0xE2792ACA;
    private static final int EXT_DATA_FILE = 0x44415441;
    /** Far above anything real; a header that claims more is refused rather than read. */
    private static final int MAX_NAME = 4096;
    private static final int MAX_HEADER = 1 << 16;

    /** Whether {@code file} starts with the qcow2 magic, as QEMU's format probe decides. */
    static boolean isQcow2(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4);
            return readFully(ch, b, 0) == 4 && b.getInt(0) == MAGIC;
        }
    }

    /** The header's references; empty when {@code file} is no qcow2 image (QEMU would then refuse to open it). */
    static Optional<Qcow2Header> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(104);
            int n = readFully(ch, h, 0);
            if (n < 72 || h.getInt(0) != MAGIC) {
                return Optional.empty();
            }
            int version = h.getInt(4);
            long backingOffset = h.getLong(8);
            int backingSize = h.getInt(16);
            String backing = backingOffset == 0 || backingSize == 0 ? null
                    : string(ch, backingOffset, backingSize, file, "backing file name");
            long extensions = version >= 3 && n >= 104 ? Integer.toUnsignedLong(h.getInt(100)) : 72;
            String format = null;
            String dataFile = null;
            long at = extensions;
            while (at < MAX_HEADER) {
                ByteBuffer ext = ByteBuffer.allocate(8);
                if (readFully(ch, ext, at) < 8 || ext.getInt(0) == EXT_END) {
                    break;
                }
                int type = ext.getInt(0);
                int length = ext.getInt(4);
                if (type == EXT_BACKING_FORMAT) {
                    format = string(ch, at + 8, length, file, "backing format");
                } else if (type == EXT_DATA_FILE) {
                    dataFile = string(ch, at + 8, length, file, "data file name");
                }
                at += 8 + ((Integer.toUnsignedLong(length) + 7) & ~7L);
            }
            return Optional.of(new Qcow2Header(backing, format, dataFile));
        }
    }

    private static String string(FileChannel ch, long offset, int length, Path file, String what) throws IOException {
        if (length < 0 || length > MAX_NAME) {
            throw new IOException(file + ": its qcow2 header gives a " + what + " of " + Integer.toUnsignedString(length)
                    + " bytes; QEMU allows at most 1023, the image is damaged or crafted");
        }
        ByteBuffer b = ByteBuffer.allocate(length);
        if (readFully(ch, b, offset) < length) {
            throw new IOException(file + ": its qcow2 header's " + what + " lies past the end of the file");
        }
        return new String(b.array(), StandardCharsets.UTF_8);
    }

    private static int readFully(FileChannel ch, ByteBuffer b, long offset) throws IOException {
        int total = 0;
        while (b.hasRemaining()) {
            int n = ch.read(b, offset + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }
}
