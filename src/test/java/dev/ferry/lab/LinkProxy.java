package dev.ferry.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy in front of one agent's HTTP API, the "link" a source agent reaches its
 * peer through. The suite can cut it (every connection dropped, new ones refused until it is
 * healed) and can hold one peer request at the proxy, so a migration stays in a known phase while
 * a fault is injected:
 *
 * <ul>
 *   <li>{@link Hold#REQUEST}: the request is not forwarded until released (the peer has not acted);
 *   <li>{@link Hold#RESPONSE}: the request is forwarded, its answer kept back until released (the
 *       peer has acted, the source does not know yet).
 * </ul>
 *
 * Requests are recognised by their HTTP/1.1 request line, which Java's HTTP client sends in clear.
 */
public final class LinkProxy implements AutoCloseable {
    /** Which half of a request/answer exchange is kept back. */
    public enum Hold { REQUEST, RESPONSE }

    private final int port;
    private volatile int upstreamPort;
    private volatile ServerSocket server;
    private volatile boolean cut;
    private final AtomicInteger turnedAway = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile String holdMarker;
    private volatile Hold holdKind;
    private volatile CountDownLatch held = new CountDownLatch(1);
    private volatile CountDownLatch released = new CountDownLatch(1);

    private LinkProxy(int port, int upstreamPort) {
        this.port = port;
        this.upstreamPort = upstreamPort;
    }

    /** A proxy on a free loopback port forwarding to {@code upstreamPort}. */
    public static LinkProxy start(int upstreamPort) throws IOException {
        ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        LinkProxy proxy = new LinkProxy(s.getLocalPort(), upstreamPort);
        proxy.serve(s);
        return proxy;
    }

    public int port() {
        return port;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /**
     * Drops every connection and turns each new one away (accepted and closed at once, so the
     * suite can count it) until {@link #heal}.
     */
    public synchronized void cut() {
        cut = true;
        open.forEach(LinkProxy::closeQuietly);
        open.clear();
        released.countDown();
    }

    public synchronized void heal() {
        cut = false;
    }

    /** How many connections a cut turned away since this proxy started. */
    public int turnedAway() {
        return turnedAway.get();
    }

    /** Holds the next request whose request line contains {@code pathPart}, as {@code kind} says. */
    public void holdNext(String pathPart, Hold kind) {
        held = new CountDownLatch(1);
        released = new CountDownLatch(1);
        holdKind = kind;
        holdMarker = pathPart;
    }

    /** Whether the armed hold caught its request within {@code limit}. */
    public boolean awaitHeld(Duration limit) throws InterruptedException {
        return held.await(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Lets the held request (or answer) go on; disarms a hold that caught nothing. */
    public void release() {
        holdMarker = null;
        released.countDown();
    }

    @Override
    public void close() {
        release();
        cut();
        closeQuietly(server);
    }

    private void serve(ServerSocket s) {
        server = s;
        Thread acceptor = new Thread(() -> accept(s), "link-proxy-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void accept(ServerSocket s) {
        while (!s.isClosed()) {
            try {
                Socket client = s.accept();
                if (cut) {
                    turnedAway.incrementAndGet();
                    closeQuietly(client);
                    continue;
                }
                Socket upstream;
                try {
                    upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                } catch (IOException e) {
                    // The agent behind is down: the source sees the connection close, as it would.
                    closeQuietly(client);
                    continue;
                }
                open.add(client);
                open.add(upstream);
                Exchange x = new Exchange();
                pump(client, upstream, x, true);
                pump(upstream, client, x, false);
            } catch (IOException e) {
                return;
            }
        }
    }

    /** What one connection's two pumps share: whether the next answer is to be held. */
    private static final class Exchange {
        volatile boolean holdAnswer;
    }

    private void pump(Socket from, Socket to, Exchange x, boolean fromClient) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (fromClient) {
                        String marker = holdMarker;
                        if (marker != null && requestLine(buf, n).contains(marker)) {
                            holdMarker = null;
                            if (holdKind == Hold.REQUEST) {
                                // Held only once all of it is here: "the request left the source" must
                                // stay true if the source dies before the client has written the body.
                                byte[] whole = HttpRequestBytes.readRest(buf, n, in);
                                waitForRelease();
                                out.write(whole);
                                out.flush();
                                continue;
                            }
                            x.holdAnswer = true;
                        }
                    } else if (x.holdAnswer) {
                        x.holdAnswer = false;
                        waitForRelease();
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // A cut or a peer that went away: the other pump sees its socket closed too.
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "link-proxy-pump-" + port);
        t.setDaemon(true);
        t.start();
    }

    private void waitForRelease() {
        CountDownLatch r = released;
        held.countDown();
        try {
            r.await(2, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String requestLine(byte[] buf, int n) {
        String head = new String(buf, 0, Math.min(n, 512), StandardCharsets.ISO_8859_1);
        int eol = head.indexOf('\r');
        return eol < 0 ? head : head.substring(0, eol);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // Closing what is broken already.
        }
    }
}
