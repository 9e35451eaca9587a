package dev.ferry.guest;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads a newc archive back, independently of {@link CpioWriter}, so tests can check what it wrote. */
final class CpioEntries {
    record Entry(int mode, int rdevMajor, int rdevMinor, byte[] content) {
        String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    private CpioEntries() {}

    static Map<String, Entry> read(byte[] archive) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        int pos = 0;
        while (true) {
            String magic = new String(archive, pos, 6, StandardCharsets.US_ASCII);
            if (!magic.equals("070701")) {
                throw new IllegalArgumentException("bad cpio magic '" + magic + "' at offset " + pos);
            }
            int mode = field(archive, pos, 1);
            int size = field(archive, pos, 6);
            int major = field(archive, pos, 9);
            int minor = field(archive, pos, 10);
            int nameSize = field(archive, pos, 11);
            String name = new String(archive, pos + 110, nameSize - 1, StandardCharsets.UTF_8);
            if (archive[pos + 110 + nameSize - 1] != 0) {
                throw new IllegalArgumentException("cpio name of " + name + " is not NUL-terminated");
            }
            int data = align(pos + 110 + nameSize);
            if (name.equals("TRAILER!!!")) {
                return entries;
            }
            byte[] content = new byte[size];
            System.arraycopy(archive, data, content, 0, size);
            entries.put(name, new Entry(mode, major, minor, content));
            pos = align(data + size);
        }
    }

    private static int field(byte[] archive, int header, int index) {
        return Integer.parseUnsignedInt(new String(archive, header + 6 + index * 8, 8, StandardCharsets.US_ASCII), 16);
    }

    private static int align(int offset) {
        return (offset + 3) & ~3;
    }
}
