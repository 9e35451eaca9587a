package dev.ferry.proc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains one output stream of a child on its own thread, so the child never blocks on a full pipe:
 * keeps the tail in a {@link TailBuffer} and hands complete lines to an optional listener.
 */
final class StreamPump implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(StreamPump.class);

    /** Longer lines are handed over in pieces, so a stream without newlines cannot grow memory. */
    static final int MAX_LINE_BYTES = 64 * 1024;

    private final String name;
    private final InputStream in;
    private final TailBuffer tail;
    private final Consumer<String> lineListener;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final CountDownLatch done = new CountDownLatch(1);
    private boolean listenerFailed;

    StreamPump(String name, InputStream in, int captureBytes, Consumer<String> lineListener) {
        this.name = name;
        this.in = in;
        this.tail = new TailBuffer(captureBytes);
        this.lineListener = lineListener;
    }

    static StreamPump start(String name, InputStream in, int captureBytes, Consumer<String> lineListener) {
        StreamPump pump = new StreamPump(name, in, captureBytes, lineListener);
        Thread thread = new Thread(pump, name);
        thread.setDaemon(true);
        thread.start();
        return pump;
    }

    @Override
    public void run() {
        byte[] buffer = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                tail.write(buffer, 0, n);
                if (lineListener != null) {
                    splitLines(buffer, n);
                }
            }
        } catch (IOException e) {
            // The stream is closed under us when the process is torn down; what was read is kept.
            log.debug("{}: stopped reading: {}", name, e.toString());
        } finally {
            if (lineListener != null && line.size() > 0) {
                emitLine();
            }
            done.countDown();
        }
    }

    private void splitLines(byte[] buffer, int n) {
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (buffer[i] == '\n') {
                line.write(buffer, start, i - start);
                emitLine();
                start = i + 1;
            } else if (line.size() + (i - start) >= MAX_LINE_BYTES) {
                line.write(buffer, start, i - start);
                emitLine();
                start = i;
            }
        }
        line.write(buffer, start, n - start);
    }

    private void emitLine() {
        byte[] bytes = line.toByteArray();
        line.reset();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        if (listenerFailed) {
            return;
        }
        try {
            lineListener.accept(new String(bytes, 0, length, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            // A broken listener must not stop the draining, or the child would block on a full pipe.
            listenerFailed = true;
            log.warn("{}: line listener failed, no further lines are passed to it", name, e);
        }
    }

    /** Waits until the stream reached its end; false when it did not within {@code millis}. */
    boolean awaitEnd(long millis) throws InterruptedException {
        return done.await(millis, TimeUnit.MILLISECONDS);
    }

    Output output() {
        return tail.snapshot();
    }
}
