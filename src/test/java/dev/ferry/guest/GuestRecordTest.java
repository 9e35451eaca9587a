package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class GuestRecordTest {

    @Test
    void encode_startsWithTheHeaderLineAndFillsOneBlock() {
        byte[] record = GuestRecord.encode(42);
        String text = new String(record, StandardCharsets.US_ASCII);

        assertThat(record).hasSize(GuestRecord.SIZE);
        assertThat(text).startsWith("FERRYREC 42 ");
        assertThat(text.charAt(127)).isEqualTo('\n');
        assertThat(text.substring(128, 192)).isEqualTo(String.format("%-63s", "ferry record 42") + "\n");
    }

    @Test
    void encode_headerCarriesTheSha256OfTheBody() throws Exception {
        byte[] record = GuestRecord.encode(7);
        String[] header = new String(record, 0, 128, StandardCharsets.US_ASCII).strip().split(" ");
        byte[] body = Arrays.copyOfRange(record, 128, GuestRecord.SIZE);

        assertThat(header[1]).isEqualTo("7");
        assertThat(header[2]).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)));
    }

    @Test
    void everySectorNamesItsSequenceNumber() {
        String text = new String(GuestRecord.encode(123456), StandardCharsets.US_ASCII);

        for (int sector = 0; sector < GuestRecord.SIZE / 512; sector++) {
            assertThat(text.substring(sector * 512, sector * 512 + 512)).contains("123456");
        }
    }

    @Test
    void classify_tellsBlankValidAndCorruptApart() {
        byte[] block = new byte[GuestRecord.SIZE * 2];
        System.arraycopy(GuestRecord.encode(9), 0, block, GuestRecord.SIZE, GuestRecord.SIZE);

        assertThat(GuestRecord.classify(block, 0, 8)).isEqualTo(GuestRecord.Kind.BLANK);
        assertThat(GuestRecord.classify(block, GuestRecord.SIZE, 9)).isEqualTo(GuestRecord.Kind.VALID);
        assertThat(GuestRecord.classify(block, GuestRecord.SIZE, 10)).isEqualTo(GuestRecord.Kind.CORRUPT);
    }

    @Test
    void diskHeader_roundTripsTheBootIdAndBlankIsNoHeader() {
        byte[] header = GuestRecord.diskHeader("d1f0e2c3-aaaa-bbbb-cccc-000011112222");

        assertThat(header).hasSize(GuestRecord.SIZE);
        assertThat(GuestRecord.diskHeaderBootId(header)).contains("d1f0e2c3-aaaa-bbbb-cccc-000011112222");
        assertThat(GuestRecord.diskHeaderBootId(new byte[GuestRecord.SIZE])).isEmpty();
    }
}
