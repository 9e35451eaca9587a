package dev.ferry.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real TLS handshakes between the JSSE contexts made from issued directories, as the agent and its clients make them. */
class TlsHandshakeTest {
    @TempDir
    Path root;
    private TestPki pki;
    private SSLServerSocket server;
    private CompletableFuture<X509Certificate> seenClient;

    @BeforeEach
    void serveAsNode1() throws Exception {
        pki = TestPki.in(root);
        Path node1 = pki.host("node1", "node1");
        server = (SSLServerSocket) TlsContexts.server(new TlsDir(node1)).getServerSocketFactory()
                .createServerSocket(0, 5, InetAddress.getLoopbackAddress());
        server.setNeedClientAuth(true);
        seenClient = CompletableFuture.supplyAsync(this::acceptOne);
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    /** Accepts one connection, echoes a byte, and returns the client's certificate. */
    private X509Certificate acceptOne() {
        try (SSLSocket s = (SSLSocket) server.accept()) {
            InputStream in = s.getInputStream();
            int b = in.read();
            OutputStream out = s.getOutputStream();
            out.write(b);
            out.flush();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void talk(SSLContext client, String host) throws IOException {
        try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket()) {
            SSLParameters params = s.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(params);
            s.connect(new InetSocketAddress(host, server.getLocalPort()), 5000);
            s.getOutputStream().write(42);
            s.getOutputStream().flush();
            assertThat(s.getInputStream().read()).isEqualTo(42);
        }
    }

    @Test
    void peerHost_andOperator_shakeHands_withHostnameVerification() throws Exception {
        talk(TlsContexts.client(new TlsDir(pki.host("node2", "node2"))), "127.0.0.1");
        assertThat(Identity.of(seenClient.get(10, TimeUnit.SECONDS)).name()).isEqualTo("node2");

        seenClient = CompletableFuture.supplyAsync(this::acceptOne);
        talk(TlsContexts.client(new TlsDir(pki.operator("alice", "alice"))), "localhost");
        assertThat(Identity.of(seenClient.get(10, TimeUnit.SECONDS)).kind()).isEqualTo(Identity.Kind.OPERATOR);
    }

    @Test
    void clientOfAnotherCa_isRefused() throws Exception {
        TestPki other = TestPki.in(root.resolve("elsewhere"));
        SSLContext stranger = TlsContexts.client(new TlsDir(other.operator("mallory", "mallory")));

        assertThatThrownBy(() -> talk(stranger, "127.0.0.1")).isInstanceOf(IOException.class);
    }

    @Test
    void serverWhoseSansLackTheAddress_isRefusedByTheClient() throws Exception {
        Path named = root.resolve("named");
        pki.ca().issueHost("node3", List.of("node3.example"), List.of(), TestPki.YEAR, named);
        server.close();
        server = (SSLServerSocket) TlsContexts.server(new TlsDir(named)).getServerSocketFactory()
                .createServerSocket(0, 5, InetAddress.getLoopbackAddress());
        seenClient = CompletableFuture.supplyAsync(this::acceptOne);

        assertThatThrownBy(() -> talk(TlsContexts.client(new TlsDir(pki.operator("alice", "alice"))), "127.0.0.1"))
                .isInstanceOf(IOException.class).hasMessageContaining("127.0.0.1");
    }
}
