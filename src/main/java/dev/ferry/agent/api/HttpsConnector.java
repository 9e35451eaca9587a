package dev.ferry.agent.api;

import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's only connector when TLS is on: HTTPS, asking every client for its certificate. The
 * handshake proves the client holds the key of what it presents; whether the cluster CA signed it,
 * and whether it is still valid, {@link ClientAccess} judges before any handler runs, so a caller
 * without a good certificate gets a 401 that says what is wrong instead of a bare TLS alert.
 */
final class HttpsConnector {
    private static final Logger log = LoggerFactory.getLogger(HttpsConnector.class);

    private final ApiTls tls;
    private final String listen;
    private final int port;

    HttpsConnector(ApiTls tls, String listen, int port) {
        this.tls = tls;
        this.listen = listen;
        this.port = port;
    }

    ClientAccess access() {
        return new ClientAccess(tls.peers(), tls.cluster());
    }

    ServerConnector connector(Server server, HttpConfiguration http) {
        // Clients reach agents by address as often as by name, and check the name themselves; Jetty's
        // own check of the Host header against the certificate would refuse the former.
        SecureRequestCustomizer secure = new SecureRequestCustomizer(false);
        http.addCustomizer(secure);
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(tls.context());
        ssl.setWantClientAuth(true);
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(http));
        connector.setHost(listen);
        connector.setPort(port);
        connector.addBean(new org.eclipse.jetty.io.ssl.SslHandshakeListener() {
            @Override
            public void handshakeFailed(Event event, Throwable failure) {
                log.warn("refused a TLS connection from {}: {}", event.getSSLEngine().getPeerHost(),
                        failure.getMessage() == null ? failure.toString() : failure.getMessage());
            }
        });
        return connector;
    }
}
