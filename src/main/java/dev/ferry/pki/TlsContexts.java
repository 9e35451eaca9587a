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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JSSE contexts made from a {@link TlsDir}: they present the directory's certificate and trust
 * the cluster CA in its {@code ca-cert.pem} alone (not the JDK's public CAs). Keys are refused when
 * group or others may read them.
 */
public final class TlsContexts {
    private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);
    private static final char[] IN_MEMORY = "ferry".toCharArray();

    private TlsContexts() {}

    /** An agent's server side: the host certificate ({@code server-cert.pem}); refused client certificates are logged. */
    public static SSLContext server(TlsDir dir) throws PkiException {
        return context(dir.serverCert(), dir.serverKey(), dir.caCert(), true);
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
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("cluster-ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(trusted);
            X509ExtendedTrustManager trust = (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), new TrustManager[] {server ? new LoggingTrustManager(trust) : trust}, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new PkiException("cannot make a TLS context from " + certFile.getParent() + ": " + e.getMessage(), e);
        }
    }

    /** Logs each client certificate the server refuses, with its subject, so an operator sees who was turned away. */
    private static final class LoggingTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;

        LoggingTrustManager(X509ExtendedTrustManager delegate) {
            this.delegate = delegate;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                throw refused(chain, e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                throw refused(chain, e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType);
            } catch (CertificateException e) {
                throw refused(chain, e);
            }
        }

        private static CertificateException refused(X509Certificate[] chain, CertificateException e) {
            String subject = chain == null || chain.length == 0 ? "(none)" : chain[0].getSubjectX500Principal().getName();
            log.warn("refused a client certificate: subject '{}': {}", subject, e.getMessage());
            return e;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            delegate.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            delegate.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
