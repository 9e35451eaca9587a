package dev.ferry.qmp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits the QMP byte stream into messages. QEMU writes each JSON object on one line (strings
 * escape their newlines), ending it with CRLF, so a newline always ends a message.
 */
final class LineFramer {
    /** Larger than any reply QEMU sends; more means the peer is not speaking QMP. */
    static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    /** Consumes {@code bytes} (a heap buffer) and returns the messages they completed, without line endings. */
    List<byte[]> feed(ByteBuffer bytes) throws IOException {
        List<byte[]> messages = new ArrayList<>();
        byte[] array = bytes.array();
        int from = bytes.arrayOffset() + bytes.position();
        int end = bytes.arrayOffset() + bytes.limit();
        for (int i = from; i < end; i++) {
            if (array[i] == '\n') {
                append(array, from, i - from);
                byte[] line = partial.toByteArray();
                partial.reset();
                int length = line.length > 0 && line[line.length - 1] == '\r' ? line.length - 1 : line.length;
                if (length > 0) {
                    messages.add(length == line.length ? line : Arrays.copyOf(line, length));
                }
                from = i + 1;
            }
        }
        append(array, from, end - from);
        bytes.position(bytes.limit());
        return messages;
    }

    private void append(byte[] array, int from, int length) throws IOException {
        if (partial.size() + length > MAX_MESSAGE_BYTES) {
            throw new IOException("QMP message longer than " + MAX_MESSAGE_BYTES + " bytes; is this a QMP socket?");
        }
        partial.write(array, from, length);
    }
}
