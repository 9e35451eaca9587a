package dev.ferry.proc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class TailBufferTest {

    @Test
    void shortOutputIsKeptWhole() {
        TailBuffer buffer = new TailBuffer(16);
        write(buffer, "hello");

        assertThat(buffer.snapshot()).isEqualTo(new Output("hello", false, 5));
    }

    @Test
    void longOutputKeepsTheLastBytes() {
        TailBuffer buffer = new TailBuffer(4);
        write(buffer, "abc");
        write(buffer, "def");
        write(buffer, "0123456789");

        assertThat(buffer.snapshot()).isEqualTo(new Output("6789", true, 16));
    }

    @Property(tries = 200)
    void keepsExactlyTheTailOfWhatWasWritten(
            @ForAll @IntRange(min = 1, max = 32) int capacity,
            @ForAll @Size(max = 20) List<@IntRange(min = 0, max = 50) Integer> chunkSizes) {
        TailBuffer buffer = new TailBuffer(capacity);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int counter = 0;
        for (int size : chunkSizes) {
            byte[] chunk = new byte[size];
            for (int i = 0; i < size; i++) {
                chunk[i] = (byte) ('a' + counter++ % 26);
            }
            buffer.write(chunk, 0, size);
            all.writeBytes(chunk);
        }

        String text = all.toString(StandardCharsets.US_ASCII);
        Output output = buffer.snapshot();
        assertThat(output.totalBytes()).isEqualTo(text.length());
        assertThat(output.truncated()).isEqualTo(text.length() > capacity);
        assertThat(output.text()).isEqualTo(text.substring(Math.max(0, text.length() - capacity)));
    }

    private static void write(TailBuffer buffer, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        buffer.write(bytes, 0, bytes.length);
    }
}
