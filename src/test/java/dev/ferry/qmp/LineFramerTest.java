package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LineFramerTest {
    private final LineFramer framer = new LineFramer();

    @Test
    void messagesSplitAcrossReadsAreReassembled() throws IOException {
        assertThat(feed("{\"a\":")).isEmpty();
        assertThat(feed("1}\r\n{\"b\":2}\r\n\r\n{\"c\"")).containsExactly("{\"a\":1}", "{\"b\":2}");
        assertThat(feed(":3}\n")).containsExactly("{\"c\":3}");
    }

    @Test
    void anEndlessLineIsRefused() {
        byte[] chunk = new byte[1024 * 1024];
        assertThatThrownBy(() -> {
            for (int i = 0; i <= LineFramer.MAX_MESSAGE_BYTES / chunk.length; i++) {
                framer.feed(ByteBuffer.wrap(chunk));
            }
        }).isInstanceOf(IOException.class).hasMessageContaining("is this a QMP socket?");
    }

    private List<String> feed(String s) throws IOException {
        return framer.feed(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8))).stream()
                .map(b -> new String(b, StandardCharsets.UTF_8)).collect(Collectors.toList());
    }
}
