package dev.ferry.lab;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads one whole HTTP/1.1 request off a connection whose first bytes were read already: the
 * header, then a body of {@code Content-Length} bytes or a chunked body up to its last chunk.
 * A client writes the header and the body in separate writes, so the first read may hold only
 * the header.
 */
final class HttpRequestBytes {
    private HttpRequestBytes() {
    }

    static byte[] readRest(byte[] first, int n, InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        got.write(first, 0, n);
        byte[] buf = new byte[64 * 1024];
        int headerEnd;
        while ((headerEnd = indexOf(got.toByteArray(), "\r\n\r\n")) < 0) {
            readMore(in, buf, got);
        }
        String header = new String(got.toByteArray(), 0, headerEnd, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        int bodyStart = headerEnd + 4;
        if (header.contains("\r\ntransfer-encoding: chunked")) {
            while (indexOf(got.toByteArray(), "\r\n0\r\n\r\n", bodyStart - 2) < 0) {
                readMore(in, buf, got);
            }
        } else {
            long length = contentLength(header);
            while (got.size() < bodyStart + length) {
                readMore(in, buf, got);
            }
        }
        return got.toByteArray();
    }

    private static void readMore(InputStream in, byte[] buf, ByteArrayOutputStream got) throws IOException {
        int r = in.read(buf);
        if (r < 0) {
            throw new EOFException("the connection closed inside a request (" + got.size() + " bytes read)");
        }
        got.write(buf, 0, r);
    }

    private static long contentLength(String header) {
        for (String line : header.split("\r\n")) {
            if (line.startsWith("content-length:")) {
                return Long.parseLong(line.substring("content-length:".length()).trim());
            }
        }
        return 0;
    }

    private static int indexOf(byte[] bytes, String what) {
        return indexOf(bytes, what, 0);
    }

    private static int indexOf(byte[] bytes, String what, int from) {
        byte[] w = what.getBytes(StandardCharsets.ISO_8859_1);
        outer:
        for (int i = Math.max(0, from); i <= bytes.length - w.length; i++) {
            for (int j = 0; j < w.length; j++) {
                if (bytes[i + j] != w[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
