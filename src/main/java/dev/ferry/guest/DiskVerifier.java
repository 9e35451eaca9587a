package dev.ferry.guest;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Checks the records the test guest wrote to its data disk (format in {@link GuestRecord}).
 *
 * <p>A qcow2 image is first converted to a sparse raw file in a temporary directory with
 * {@code qemu-img convert}: that reads the image through QEMU's own driver (backing files,
 * compression, snapshots all handled), and the temporary file is deleted afterwards. Any other file
 * is read as raw. The image must not be in use by a running QEMU that is still writing, or the
 * report describes a moment that has passed.
 */
public final class DiskVerifier {
    private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};
    private static final Duration CONVERT_TIMEOUT = Duration.ofMinutes(10);
    private static final int BLOCKS_PER_READ = 256;

    private DiskVerifier() {}

    /**
     * Reads {@code image} and reports its records.
     *
     * @throws IOException when the image cannot be read or converted; the message names the image
     */
    public static DiskReport verify(Path image, ProcessRunner runner) throws IOException, InterruptedException {
        if (!Files.isRegularFile(image)) {
            throw new IOException("disk image " + image + " does not exist or is not a file");
        }
        if (!isQcow2(image)) {
            return scanRaw(image);
        }
        Path temp = Files.createTempDirectory("ferry-verify-");
        try {
            Path raw = temp.resolve("disk.raw");
            ProcResult result = runner.run(Command.of("qemu-img", "convert", "-f", "qcow2", "-O", "raw",
                    image.toString(), raw.toString()).timeout(CONVERT_TIMEOUT));
            if (!result.ok()) {
                throw new IOException("cannot read qcow2 image " + image + ": " + result.describe()
                        + " (is a running QEMU holding its lock?)");
            }
            return scanRaw(raw);
        } finally {
            GuestKit.deleteQuietly(temp);
        }
    }

    private static boolean isQcow2(Path image) throws IOException {
        try (InputStream in = Files.newInputStream(image)) {
            return Arrays.equals(in.readNBytes(QCOW2_MAGIC.length), QCOW2_MAGIC);
        }
    }

    /** Reads block after block; blank runs are kept as ranges so a large blank disk costs no memory. */
    static DiskReport scanRaw(Path raw) throws IOException {
        List<long[]> blankRuns = new ArrayList<>();
        List<Long> corrupt = new ArrayList<>();
        long found = 0;
        long highestContiguous = 0;
        boolean contiguous = true;
        long highestUsed = 0;
        try (FileChannel channel = FileChannel.open(raw, StandardOpenOption.READ)) {
            checkHeader(raw, channel);
            ByteBuffer buffer = ByteBuffer.allocate(GuestRecord.SIZE * BLOCKS_PER_READ);
            long seq = 1;
            long position = GuestRecord.SIZE;
            while (true) {
                buffer.clear();
                int read = readFully(channel, buffer, position);
                int blocks = read / GuestRecord.SIZE;
                if (blocks == 0) {
                    break;
                }
                for (int b = 0; b < blocks; b++, seq++) {
                    GuestRecord.Kind kind = GuestRecord.classify(buffer.array(), b * GuestRecord.SIZE, seq);
                    switch (kind) {
                        case VALID -> {
                            found++;
                            highestUsed = seq;
                            if (contiguous) {
                                highestContiguous = seq;
                            }
                        }
                        case CORRUPT -> {
                            corrupt.add(seq);
                            highestUsed = seq;
                            contiguous = false;
                        }
                        case BLANK -> {
                            contiguous = false;
                            addBlank(blankRuns, seq);
                        }
                        default -> throw new IllegalStateException("unknown record kind " + kind);
                    }
                }
                position += (long) blocks * GuestRecord.SIZE;
            }
        }
        return new DiskReport(highestContiguous, found, gapsBelow(blankRuns, highestUsed), corrupt);
    }

    private static void checkHeader(Path raw, FileChannel channel) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(GuestRecord.SIZE);
        readFully(channel, header, 0);
        try {
            GuestRecord.diskHeaderBootId(header.array());
        } catch (IllegalArgumentException e) {
            throw new IOException("disk image " + raw + ": " + e.getMessage(), e);
        }
    }

    private static void addBlank(List<long[]> runs, long seq) {
        if (!runs.isEmpty()) {
            long[] last = runs.get(runs.size() - 1);
            if (last[1] == seq - 1) {
                last[1] = seq;
                return;
            }
        }
        runs.add(new long[] {seq, seq});
    }

    private static List<Long> gapsBelow(List<long[]> runs, long limit) {
        List<Long> gaps = new ArrayList<>();
        for (long[] run : runs) {
            for (long seq = run[0]; seq <= run[1] && seq < limit; seq++) {
                gaps.add(seq);
            }
        }
        return gaps;
    }

    private static int readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        int total = 0;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }
}
