package dev.ferry.pki;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * JSSE contexts made from a {@link TlsDir}: they present the directory's certificate and trust
 * the cluster CA in its {@code ca-cert.pem} alone (not the JDK's public CAs). Keys are refused when
 * group or others may read them.
 */
public final class TlsContexts {
    private static final char[] IN_MEMORY = "ferry".toCharArray();

    private TlsContexts() {}

    /**
     * An agent's server side: the host certificate ({@code server-cert.pem}). A client certificate is
     * asked for, and the handshake proves the client holds its key, but its chain is not judged here:
     * a refusal in the handshake reaches the caller as a bare TLS alert, so the API judges it with
     * {@link #clusterTrust} before any handler runs and answers 401 naming what is wrong.
     */
    public static SSLContext server(TlsDir dir) throws PkiException {
        return context(dir.serverCert(), dir.serverKey(), dir.caCert(), true);
    }

    /** Trusts the cluster CA in {@code dir}'s {@code ca-cert.pem} alone: for judging client certificates. */
    public static X509ExtendedTrustManager clusterTrust(TlsDir dir) throws PkiException {
        X509Certificate ca = PemFiles.readCertificate(dir.caCert());
        try {
            return trustOnly(ca);
        } catch (GeneralSecurityException | IOException e) {
            throw new PkiException("cannot trust " + dir.caCert() + ": " + e.getMessage(), e);
        }
    }

    private static X509ExtendedTrustManager trustOnly(X509Certificate ca) throws GeneralSecurityException, IOException {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("cluster-ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trusted);
        return (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
    }

    /** A client side: an agent calling its peers, or an operator's CLI ({@code client-cert.pem}). */
    public static SSLContext client(TlsDir dir) throws PkiException {
        return context(dir.clientCert(), dir.clientKey(), dir.caCert(), false);
    }

    private static SSLContext context(Path certFile, Path keyFile, Path caFile, boolean server) throws PkiException {
        X509Certificate cert = PemFiles.readCertificate(certFile);
        PrivateKey key = PemFiles.readPrivateKey(keyFile);
        X509Certificate ca = PemFiles.readCertificate(caFile);
        if (!PkiValidator.belongTogether(key, cert.getPublicKey())) {
            throw new PkiException(keyFile + " is not the key of " + certFile + "; put the key issued with it there,"
                    + " or reissue both ('ferry pki validate " + certFile.getParent() + "' shows what else is wrong)");
        }
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("ferry", key, IN_MEMORY, new X509Certificate[] {cert, ca});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, IN_MEMORY);
            X509ExtendedTrustManager trust = trustOnly(ca);
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), new TrustManager[] {server ? new ClientChainLater(trust) : trust}, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new PkiException("cannot make a TLS context from " + certFile.getParent() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The server's trust: a client's chain passes the handshake whatever it is (the API judges it,
     * see {@link #server}); the CA is still named in the certificate request, so clients pick the
     * right certificate.
     */
    private static final class ClientChainLater extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager cluster;

        ClientChainLater(X509ExtendedTrustManager cluster) {
            this.cluster = cluster;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            // Judged per request by the API.
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            // Judged per request by the API.
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            // Judged per request by the API.
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            cluster.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            cluster.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            cluster.checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return cluster.getAcceptedIssuers();
        }
    }
}
