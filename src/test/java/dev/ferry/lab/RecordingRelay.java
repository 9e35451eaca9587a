package dev.ferry.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP relay that a QEMU stream is sent through, watching every byte in both directions
 * for given markers (found across read boundaries too). It keeps no capture, only how many bytes
 * passed and which markers went by, so a stream of hundreds of MiB costs nothing to watch.
 */
public final class RecordingRelay implements AutoCloseable {
    private final ServerSocket server;
    private final int upstreamPort;
    private final List<byte[]> markers;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytes = new AtomicLong();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    private RecordingRelay(ServerSocket server, int upstreamPort, List<String> markers) {
        this.server = server;
        this.upstreamPort = upstreamPort;
        this.markers = markers.stream().map(m -> m.getBytes(StandardCharsets.US_ASCII)).toList();
    }

    /** A relay on a free loopback port in front of {@code 127.0.0.1:upstreamPort}, watching for {@code markers}. */
    public static RecordingRelay start(int upstreamPort, List<String> markers) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        RecordingRelay relay = new RecordingRelay(server, upstreamPort, markers);
        Thread accept = new Thread(relay::acceptLoop, "relay-" + server.getLocalPort());
        accept.setDaemon(true);
        accept.start();
        return relay;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Bytes relayed so far, both directions together. */
    public long bytes() {
        return bytes.get();
    }

    /** Whether {@code marker} went through in either direction. */
    public boolean saw(String marker) {
        return seen.contains(marker);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                Socket out = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                open.add(in);
                open.add(out);
                pump(in, out);
                pump(out, in);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            int keep = markers.stream().mapToInt(m -> m.length).max().orElse(1) - 1;
            byte[] window = new byte[keep + 65536];
            int carried = 0;
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(window, carried, window.length - carried)) > 0) {
                    out.write(window, carried, n);
                    bytes.addAndGet(n);
                    int filled = carried + n;
                    look(window, filled);
                    carried = Math.min(keep, filled);
                    System.arraycopy(window, filled - carried, window, 0, carried);
                }
            } catch (IOException e) {
                // One side closed: the other follows below.
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "relay-pump-" + from.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    private void look(byte[] buf, int length) {
        for (byte[] m : markers) {
            String name = new String(m, StandardCharsets.US_ASCII);
            if (!seen.contains(name) && indexOf(buf, length, m) >= 0) {
                seen.add(name);
            }
        }
    }

    static int indexOf(byte[] buf, int length, byte[] m) {
        outer:
        for (int i = 0; i + m.length <= length; i++) {
            for (int j = 0; j < m.length; j++) {
                if (buf[i + j] != m[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        open.forEach(RecordingRelay::closeQuietly);
    }
}
