package dev.ferry.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class LinkProxyTest {
    private static final String HEADER = "POST /v1/peer/migrations/m1/switchover HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n";
    private static final String BODY = "{\"id\":\"m1\"}";

    @Test
    void aHeldRequestCountsAsHeldOnlyOnceItsBodyArrived_andReachesThePeerWhole_evenWhenTheSenderDiedMeanwhile()
            throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                LinkProxy proxy = LinkProxy.start(peer.getLocalPort())) {
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> readAll(peer));
            proxy.holdNext("/switchover ", LinkProxy.Hold.REQUEST);
            Socket source = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
            OutputStream out = source.getOutputStream();
            out.write(HEADER.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();

            // Only the header is at the proxy: the request has not wholly left the source yet.
            assertThat(proxy.awaitHeld(Duration.ofMillis(300))).isFalse();

            out.write(BODY.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertThat(proxy.awaitHeld(Duration.ofSeconds(30))).isTrue();
            source.close();
            proxy.release();

            assertThat(received.get()).isEqualTo(HEADER + BODY);
        }
    }

    @Test
    void aChunkedRequestIsHeldUntilItsLastChunk() throws Exception {
        String header = "POST /v1/peer/x/switchover HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        try (ServerSocket peer = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                LinkProxy proxy = LinkProxy.start(peer.getLocalPort())) {
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> readAll(peer));
            proxy.holdNext("/switchover ", LinkProxy.Hold.REQUEST);
            Socket source = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
            OutputStream out = source.getOutputStream();
            out.write((header + "3\r\nabc\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertThat(proxy.awaitHeld(Duration.ofMillis(300))).isFalse();
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertThat(proxy.awaitHeld(Duration.ofSeconds(30))).isTrue();
            source.close();
            proxy.release();
            assertThat(received.get()).isEqualTo(header + "3\r\nabc\r\n0\r\n\r\n");
        }
    }

    private static String readAll(ServerSocket peer) {
        try (Socket s = peer.accept(); InputStream in = s.getInputStream()) {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            in.transferTo(got);
            return got.toString(StandardCharsets.ISO_8859_1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
