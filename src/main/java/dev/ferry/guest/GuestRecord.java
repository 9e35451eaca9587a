package dev.ferry.guest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * The on-disk format the guest writes to its data disk, byte for byte as the init script makes it
 * (the tests check the two agree).
 *
 * <p>Block 0 (4 KiB) is the disk header: {@code FERRYDISK 1 4096 <boot id>} padded with spaces to
 * 4095 bytes and a newline; it tells a used disk from a blank one. Record {@code seq} (from 1) sits
 * at byte offset {@code seq * 4096}: a 128-byte header line {@code FERRYREC <seq> <sha256 of body>}
 * padded with spaces, then a body of 62 lines of 64 bytes, each {@code ferry record <seq>} padded
 * with spaces. Every 512-byte sector thus names its sequence number, so a sector written to the
 * wrong place or a torn write shows up as a corrupt record.
 */
final class GuestRecord {
    static final int SIZE = 4096;
    static final String RECORD_MAGIC = "FERRYREC";
    static final String DISK_MAGIC = "FERRYDISK";
    static final int FORMAT_VERSION = 1;

    private static final int HEADER_LINE = 128;
    private static final int BODY_LINE = 64;
    private static final int BODY_LINES = (SIZE - HEADER_LINE) / BODY_LINE;

    private GuestRecord() {}

    /** What a 4 KiB block at a record's offset holds. */
    enum Kind {
        /** All zeros: never written. */
        BLANK,
        /** Exactly the record for this offset. */
        VALID,
        /** Anything else: torn, damaged, or a record of another sequence number. */
        CORRUPT
    }

    static byte[] encode(long seq) {
        if (seq < 1) {
            throw new IllegalArgumentException("record sequence numbers start at 1, got " + seq);
        }
        String line = padded("ferry record " + seq, BODY_LINE);
        String body = line.repeat(BODY_LINES);
        String header = padded(RECORD_MAGIC + " " + seq + " " + sha256(body), HEADER_LINE);
        byte[] record = (header + body).getBytes(StandardCharsets.US_ASCII);
        if (record.length != SIZE) {
            throw new IllegalStateException("record " + seq + " is " + record.length + " bytes, not " + SIZE);
        }
        return record;
    }

    static Kind classify(byte[] block, int offset, long seq) {
        boolean blank = true;
        for (int i = offset; i < offset + SIZE; i++) {
            if (block[i] != 0) {
                blank = false;
                break;
            }
        }
        if (blank) {
            return Kind.BLANK;
        }
        byte[] expected = encode(seq);
        for (int i = 0; i < SIZE; i++) {
            if (block[offset + i] != expected[i]) {
                return Kind.CORRUPT;
            }
        }
        return Kind.VALID;
    }

    static byte[] diskHeader(String bootId) {
        String text = padded(DISK_MAGIC + " " + FORMAT_VERSION + " " + SIZE + " " + bootId, SIZE);
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** The boot id in a disk header block, or empty when the block is not one (a blank disk). */
    static Optional<String> diskHeaderBootId(byte[] block) {
        int end = 0;
        while (end < Math.min(block.length, 256) && block[end] != '\n' && block[end] != 0) {
            end++;
        }
        String[] fields = new String(block, 0, end, StandardCharsets.US_ASCII).strip().split(" +");
        if (fields.length != 4 || !fields[0].equals(DISK_MAGIC)) {
            return Optional.empty();
        }
        if (!fields[1].equals(String.valueOf(FORMAT_VERSION)) || !fields[2].equals(String.valueOf(SIZE))) {
            throw new IllegalArgumentException("disk header says format " + fields[1] + " with " + fields[2]
                    + "-byte records; this Ferry reads format " + FORMAT_VERSION + " with " + SIZE + "-byte records");
        }
        return Optional.of(fields[3]);
    }

    /** {@code text} padded with spaces to {@code width - 1} characters, then a newline. */
    private static String padded(String text, int width) {
        return String.format(Locale.ROOT, "%-" + (width - 1) + "s", text) + "\n";
    }

    private static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
