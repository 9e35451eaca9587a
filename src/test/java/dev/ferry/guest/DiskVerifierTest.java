package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskVerifierTest {
    private static final long DISK_BYTES = 1024 * 1024;

    @TempDir
    Path dir;

    private final ProcessRunner runner = new ProcessRunner();

    /** A raw disk as the guest leaves it: the header block, then the given records at their offsets. */
    private Path disk(long... seqs) throws IOException {
        Path image = dir.resolve("disk.raw");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(DISK_BYTES);
            file.write(GuestRecord.diskHeader("0b3c2a9e-5d1f-4e6a-9b7c-1d2e3f405162"));
            for (long seq : seqs) {
                file.seek(seq * GuestRecord.SIZE);
                file.write(GuestRecord.encode(seq));
            }
        }
        return image;
    }

    private static void overwrite(Path image, long offset, byte[] bytes) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.seek(offset);
            file.write(bytes);
        }
    }

    @Test
    void blankDisk_reportsNothingAndIsClean() throws Exception {
        Path image = dir.resolve("blank.raw");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(DISK_BYTES);
        }

        DiskReport report = DiskVerifier.verify(image, runner);

        assertThat(report).isEqualTo(new DiskReport(0, 0, java.util.List.of(), java.util.List.of()));
        assertThat(report.clean()).isTrue();
    }

    @Test
    void contiguousRecords_reportTheHighest() throws Exception {
        DiskReport report = DiskVerifier.verify(disk(1, 2, 3, 4, 5), runner);

        assertThat(report.highestContiguous()).isEqualTo(5);
        assertThat(report.recordsFound()).isEqualTo(5);
        assertThat(report.clean()).isTrue();
    }

    @Test
    void missingRecord_isAGapAndEndsTheContiguousRun() throws Exception {
        DiskReport report = DiskVerifier.verify(disk(1, 2, 4, 5, 7), runner);

        assertThat(report.highestContiguous()).isEqualTo(2);
        assertThat(report.recordsFound()).isEqualTo(5);
        assertThat(report.gaps()).containsExactly(3L, 6L);
        assertThat(report.corrupt()).isEmpty();
        assertThat(report.clean()).isFalse();
    }

    @Test
    void flippedByte_makesTheRecordCorrupt() throws Exception {
        Path image = disk(1, 2, 3, 4);
        overwrite(image, 3L * GuestRecord.SIZE + 2000, new byte[] {'X'});

        DiskReport report = DiskVerifier.verify(image, runner);

        assertThat(report.highestContiguous()).isEqualTo(2);
        assertThat(report.recordsFound()).isEqualTo(3);
        assertThat(report.corrupt()).containsExactly(3L);
        assertThat(report.gaps()).isEmpty();
        assertThat(report.clean()).isFalse();
    }

    @Test
    void tornWrite_withOnlyTheFirstSectorWritten_isCorrupt() throws Exception {
        Path image = disk(1, 2);
        overwrite(image, 3L * GuestRecord.SIZE, java.util.Arrays.copyOf(GuestRecord.encode(3), 512));

        DiskReport report = DiskVerifier.verify(image, runner);

        assertThat(report.highestContiguous()).isEqualTo(2);
        assertThat(report.corrupt()).containsExactly(3L);
    }

    @Test
    void recordAtTheWrongOffset_isCorrupt() throws Exception {
        Path image = disk(1, 2);
        overwrite(image, 3L * GuestRecord.SIZE, GuestRecord.encode(2));

        assertThat(DiskVerifier.verify(image, runner).corrupt()).containsExactly(3L);
    }

    @Test
    void headerOfAnotherFormat_isRefusedWithBothVersions() throws Exception {
        Path image = disk(1);
        overwrite(image, 0, String.format("%-100s", "FERRYDISK 9 512 x").getBytes(StandardCharsets.US_ASCII));

        assertThatThrownBy(() -> DiskVerifier.verify(image, runner))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("format 9 with 512-byte records")
                .hasMessageContaining(image.toString());
    }

    @Test
    void missingImage_isNamed() {
        Path image = dir.resolve("nope.qcow2");

        assertThatThrownBy(() -> DiskVerifier.verify(image, runner)).hasMessageContaining(image.toString());
    }
}
