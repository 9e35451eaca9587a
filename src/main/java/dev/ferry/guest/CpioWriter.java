package dev.ferry.guest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Writes a cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs.
 * Owner is root, times are zero and inode numbers count up, so the same entries always give the
 * same bytes (the cache key of the guest kit relies on builds being reproducible).
 */
final class CpioWriter implements AutoCloseable {
    static final String MAGIC = "070701";
    static final String TRAILER = "TRAILER!!!";

    static final int TYPE_DIRECTORY = 0040000;
    static final int TYPE_FILE = 0100000;
    static final int TYPE_SYMLINK = 0120000;
    static final int TYPE_CHAR_DEVICE = 0020000;

    private final OutputStream out;
    private final Set<String> names = new HashSet<>();
    private long written;
    private int nextInode = 1;
    private boolean finished;

    CpioWriter(OutputStream out) {
        this.out = out;
    }

    void directory(String path, int permissions) throws IOException {
        entry(path, TYPE_DIRECTORY | permissions, 2, 0, 0, new byte[0]);
    }

    void file(String path, int permissions, byte[] content) throws IOException {
        entry(path, TYPE_FILE | permissions, 1, 0, 0, content);
    }

    void symlink(String path, String target) throws IOException {
        entry(path, TYPE_SYMLINK | 0777, 1, 0, 0, target.getBytes(StandardCharsets.UTF_8));
    }

    /** A device node; the kernel needs /dev/console before any devtmpfs is mounted. */
    void charDevice(String path, int permissions, int major, int minor) throws IOException {
        entry(path, TYPE_CHAR_DEVICE | permissions, 1, major, minor, new byte[0]);
    }

    /** Writes the trailer entry that ends the archive; no entry may follow. */
    void finish() throws IOException {
        if (!finished) {
            header(TRAILER, 0, 1, 0, 0, 0, 0);
            finished = true;
            out.flush();
        }
    }

    /** Finishes the archive if that was not done yet; does not close the underlying stream. */
    @Override
    public void close() throws IOException {
        finish();
    }

    private void entry(String path, int mode, int links, int major, int minor, byte[] content) throws IOException {
        if (finished) {
            throw new IllegalStateException("cpio archive already finished; cannot add " + path);
        }
        String name = normalize(path);
        if (!names.add(name)) {
            throw new IllegalArgumentException("cpio archive already has an entry named " + name);
        }
        header(name, mode, links, major, minor, content.length, nextInode++);
        write(content);
        pad();
    }

    private static String normalize(String path) {
        String name = path.startsWith("/") ? path.substring(1) : path;
        if (name.isEmpty() || name.equals(TRAILER) || name.contains("\0")) {
            throw new IllegalArgumentException("invalid cpio entry name '" + path + "'");
        }
        return name;
    }

    private void header(String name, int mode, int links, int major, int minor, int size, int inode)
            throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder header = new StringBuilder(110).append(MAGIC);
        long[] fields = {
            inode, mode, 0 /* uid */, 0 /* gid */, links, 0 /* mtime */, size,
            0 /* devmajor */, 0 /* devminor */, major, minor, nameBytes.length + 1, 0 /* check */
        };
        for (long field : fields) {
            header.append(String.format(Locale.ROOT, "%08x", field));
        }
        write(header.toString().getBytes(StandardCharsets.US_ASCII));
        write(nameBytes);
        write(new byte[] {0});
        pad();
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        written += bytes.length;
    }

    /** Header, name and data each end on a four-byte boundary in newc. */
    private void pad() throws IOException {
        int padding = (int) ((4 - written % 4) % 4);
        write(new byte[padding]);
    }
}
