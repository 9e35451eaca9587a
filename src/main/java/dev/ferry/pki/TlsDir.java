package dev.ferry.pki;

import java.nio.file.Path;

/**
 * A directory of TLS files laid out the way QEMU's {@code tls-creds-x509} object reads it. A host's
 * directory ({@code ferry pki issue}) holds all five files, with the same certificate and key under
 * the server and the client names; an operator's ({@code ferry pki client}) holds the CA and the
 * client pair only.
 */
public record TlsDir(Path dir) {
    public static final String CA_CERT = "ca-cert.pem";
    public static final String SERVER_CERT = "server-cert.pem";
    public static final String SERVER_KEY = "server-key.pem";
    public static final String CLIENT_CERT = "client-cert.pem";
    public static final String CLIENT_KEY = "client-key.pem";

    public Path caCert() {
        return dir.resolve(CA_CERT);
    }

    public Path serverCert() {
        return dir.resolve(SERVER_CERT);
    }

    public Path serverKey() {
        return dir.resolve(SERVER_KEY);
    }

    public Path clientCert() {
        return dir.resolve(CLIENT_CERT);
    }

    public Path clientKey() {
        return dir.resolve(CLIENT_KEY);
    }
}
