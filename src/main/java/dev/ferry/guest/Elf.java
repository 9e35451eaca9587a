package dev.ferry.guest;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the little that the kit needs from 64-bit little-endian ELF files: whether an executable
 * asks for a dynamic loader (a guest without libc cannot run it) and a kernel module's
 * {@code .modinfo} strings (its {@code depends=} line stands in for a missing modules.dep).
 */
final class Elf {
    private static final int PT_INTERP = 3;
    private static final int EM_X86_64 = 62;

    private final String name;
    private final ByteBuffer bytes;

    private Elf(String name, byte[] content) {
        this.name = name;
        this.bytes = ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN);
        if (content.length < 64 || content[0] != 0x7f || content[1] != 'E' || content[2] != 'L' || content[3] != 'F') {
            throw new IllegalArgumentException(name + " is not an ELF file");
        }
        if (content[4] != 2 || content[5] != 1) {
            throw new IllegalArgumentException(name + " is not a 64-bit little-endian ELF file");
        }
    }

    static Elf parse(String name, byte[] content) {
        return new Elf(name, content);
    }

    boolean isX86_64() {
        return Short.toUnsignedInt(bytes.getShort(0x12)) == EM_X86_64;
    }

    /** True when no program header names an interpreter, i.e. the kernel can run it without ld.so. */
    boolean isStatic() {
        long offset = bytes.getLong(0x20);
        int size = Short.toUnsignedInt(bytes.getShort(0x36));
        int count = Short.toUnsignedInt(bytes.getShort(0x38));
        for (int i = 0; i < count; i++) {
            int header = checkedOffset(offset + (long) i * size, 4);
            if (bytes.getInt(header) == PT_INTERP) {
                return false;
            }
        }
        return true;
    }

    /** The NUL-separated {@code key=value} strings of the {@code .modinfo} section, in order. */
    List<String> modinfo() {
        byte[] section = section(".modinfo")
                .orElseThrow(() -> new IllegalArgumentException(name + " has no .modinfo section; is it a kernel module?"));
        List<String> entries = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= section.length; i++) {
            if (i == section.length || section[i] == 0) {
                if (i > start) {
                    entries.add(new String(section, start, i - start, StandardCharsets.UTF_8));
                }
                start = i + 1;
            }
        }
        return entries;
    }

    Optional<byte[]> section(String wanted) {
        long tableOffset = bytes.getLong(0x28);
        int entrySize = Short.toUnsignedInt(bytes.getShort(0x3A));
        int count = Short.toUnsignedInt(bytes.getShort(0x3C));
        int namesIndex = Short.toUnsignedInt(bytes.getShort(0x3E));
        if (count == 0 || namesIndex >= count) {
            return Optional.empty();
        }
        int namesHeader = checkedOffset(tableOffset + (long) namesIndex * entrySize, 64);
        int namesOffset = checkedOffset(bytes.getLong(namesHeader + 24), 0);
        for (int i = 0; i < count; i++) {
            int header = checkedOffset(tableOffset + (long) i * entrySize, 64);
            String sectionName = cString(checkedOffset(namesOffset + Integer.toUnsignedLong(bytes.getInt(header)), 1));
            if (sectionName.equals(wanted)) {
                int offset = checkedOffset(bytes.getLong(header + 24), 0);
                long size = bytes.getLong(header + 32);
                checkedOffset(offset + size, 0);
                byte[] content = new byte[(int) size];
                bytes.get(offset, content);
                return Optional.of(content);
            }
        }
        return Optional.empty();
    }

    private String cString(int offset) {
        int end = offset;
        while (end < bytes.limit() && bytes.get(end) != 0) {
            end++;
        }
        byte[] text = new byte[end - offset];
        bytes.get(offset, text);
        return new String(text, StandardCharsets.UTF_8);
    }

    private int checkedOffset(long offset, int length) {
        if (offset < 0 || offset + length > bytes.limit()) {
            throw new IllegalArgumentException(name + " is a truncated or damaged ELF file (offset " + offset + ")");
        }
        return (int) offset;
    }
}
