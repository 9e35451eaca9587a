package dev.ferry.pki;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a directory of TLS files the way {@code virt-pki-validate} does, and says what to fix:
 * the CA certificate is a CA and valid now; each certificate is valid now (and not about to expire),
 * was signed by that CA, has the purposes its file name promises and, for a server, names its host
 * in its SANs; each key belongs to its certificate and is private to its owner. Works on a CA's
 * directory ({@code ca-key.pem}), a host's and an operator's.
 */
public final class PkiValidator {
    /** Certificates that expire sooner than this are reported, as a warning, so they are renewed in time. */
    static final Duration EXPIRY_WARNING = Duration.ofDays(30);
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    /** One thing wrong with the directory. */
    public record Problem(Severity severity, Path file, String problem, String fix) {
        @Override
        public String toString() {
            return severity.name().toLowerCase(java.util.Locale.ROOT) + ": " + file + ": " + problem + "; " + fix;
        }
    }

    public enum Severity {
        /** The directory does not work (or will not, once a peer checks this). */
        ERROR,
        /** It works today; act before it stops working. */
        WARNING
    }

    private final Clock clock;

    public PkiValidator(Clock clock) {
        this.clock = clock;
    }

    /** Every problem found in {@code dir}; empty when it is good. */
    public List<Problem> validate(Path dir) {
        List<Problem> problems = new ArrayList<>();
        TlsDir tls = new TlsDir(dir);
        if (!Files.isDirectory(dir)) {
            problems.add(new Problem(Severity.ERROR, dir, "is not a directory",
                    "give a directory made by 'ferry pki init', 'ferry pki issue' or 'ferry pki client'"));
            return problems;
        }
        X509Certificate ca = caCertificate(tls.caCert(), problems);
        Path caKey = dir.resolve(CertificateAuthority.CA_KEY);
        if (Files.exists(caKey) && ca != null) {
            checkKey(caKey, ca, tls.caCert(), problems);
        }
        boolean server = Files.exists(tls.serverCert()) || Files.exists(tls.serverKey());
        boolean client = Files.exists(tls.clientCert()) || Files.exists(tls.clientKey());
        if (server) {
            checkPair(tls.serverCert(), tls.serverKey(), SERVER_AUTH, "serverAuth", ca, problems);
        }
        if (client) {
            checkPair(tls.clientCert(), tls.clientKey(), CLIENT_AUTH, "clientAuth", ca, problems);
        }
        if (!server && !client && !Files.exists(caKey)) {
            problems.add(new Problem(Severity.ERROR, dir, "holds no certificate besides the CA's ("
                    + TlsDir.SERVER_CERT + ", " + TlsDir.CLIENT_CERT + " or " + CertificateAuthority.CA_KEY + ")",
                    "issue one into it with 'ferry pki issue' or 'ferry pki client'"));
        }
        return problems;
    }

    private X509Certificate caCertificate(Path file, List<Problem> problems) {
        X509Certificate ca = certificate(file, problems);
        if (ca == null) {
            return null;
        }
        if (ca.getBasicConstraints() < 0) {
            problems.add(new Problem(Severity.ERROR, file, "is not a CA certificate (no basicConstraints CA:TRUE)",
                    "copy the ca-cert.pem of the directory 'ferry pki init' made"));
        }
        if (!ca.getSubjectX500Principal().equals(ca.getIssuerX500Principal()) || !signedBy(ca, ca.getPublicKey())) {
            problems.add(new Problem(Severity.ERROR, file, "is not self-signed, so it is not the root of the cluster",
                    "copy the ca-cert.pem of the directory 'ferry pki init' made"));
        }
        checkDates(file, ca, "make a new CA with 'ferry pki init' and reissue every certificate", problems);
        return ca;
    }

    private void checkPair(Path certFile, Path keyFile, String purpose, String purposeName, X509Certificate ca,
                           List<Problem> problems) {
        X509Certificate cert = certificate(certFile, problems);
        if (cert == null) {
            return;
        }
        String reissue = "reissue it with 'ferry pki issue' (hosts) or 'ferry pki client' (operators)";
        checkDates(certFile, cert, reissue, problems);
        if (ca != null && (!cert.getIssuerX500Principal().equals(ca.getSubjectX500Principal())
                || !signedBy(cert, ca.getPublicKey()))) {
            problems.add(new Problem(Severity.ERROR, certFile, "was not signed by the CA in " + TlsDir.CA_CERT
                    + " (issuer " + cert.getIssuerX500Principal().getName() + ")",
                    "reissue it with this cluster's CA, or put that CA's ca-cert.pem beside it"));
        }
        checkPurpose(certFile, cert, purpose, purposeName, reissue, problems);
        if (purpose.equals(SERVER_AUTH)) {
            checkNames(certFile, cert, problems);
        }
        checkKey(keyFile, cert, certFile, problems);
    }

    private void checkDates(Path file, X509Certificate cert, String fix, List<Problem> problems) {
        Instant now = clock.instant();
        Instant notBefore = cert.getNotBefore().toInstant();
        Instant notAfter = cert.getNotAfter().toInstant();
        if (now.isAfter(notAfter)) {
            problems.add(new Problem(Severity.ERROR, file, "expired on " + notAfter, fix));
        } else if (now.isBefore(notBefore)) {
            problems.add(new Problem(Severity.ERROR, file, "is not valid before " + notBefore
                    + " (is this host's clock right?)", "check the clock, or " + fix));
        } else if (now.plus(EXPIRY_WARNING).isAfter(notAfter)) {
            problems.add(new Problem(Severity.WARNING, file, "expires on " + notAfter + ", in less than "
                    + EXPIRY_WARNING.toDays() + " days", fix));
        }
    }

    private static void checkPurpose(Path file, X509Certificate cert, String purpose, String purposeName, String fix,
                                     List<Problem> problems) {
        try {
            List<String> purposes = cert.getExtendedKeyUsage();
            if (purposes != null && !purposes.contains(purpose)) {
                problems.add(new Problem(Severity.ERROR, file, "is not for " + purposeName + " (its extended key usage is "
                        + purposes + ")", fix));
            }
        } catch (CertificateParsingException e) {
            problems.add(new Problem(Severity.ERROR, file, "has an unreadable extended key usage: " + e.getMessage(), fix));
        }
    }

    private static void checkNames(Path file, X509Certificate cert, List<Problem> problems) {
        try {
            if (Identity.alternativeNames(cert).isEmpty()) {
                problems.add(new Problem(Severity.ERROR, file, "names no host in subjectAltName; peers and QEMU check"
                        + " the name or address they connect to against it", "reissue it with 'ferry pki issue HOST"
                        + " --dns NAME --ip ADDR' naming every name and address peers use"));
            }
        } catch (CertificateParsingException e) {
            problems.add(new Problem(Severity.ERROR, file, "has an unreadable subjectAltName: " + e.getMessage(),
                    "reissue it with 'ferry pki issue'"));
        }
    }

    private static void checkKey(Path keyFile, X509Certificate cert, Path certFile, List<Problem> problems) {
        if (!Files.exists(keyFile)) {
            problems.add(new Problem(Severity.ERROR, keyFile, "is missing; " + certFile.getFileName() + " is useless"
                    + " without it", "put the key issued with " + certFile.getFileName() + " here, or reissue both"));
            return;
        }
        try {
            if (!PemFiles.isPrivate(keyFile)) {
                problems.add(new Problem(Severity.ERROR, keyFile, "may be read or written by group or others",
                        "run 'chmod 600 " + keyFile + "'"));
            }
        } catch (IOException e) {
            problems.add(new Problem(Severity.ERROR, keyFile, "has unreadable permissions: " + e.getMessage(),
                    "check the directory's permissions"));
            return;
        }
        PrivateKey key;
        try {
            // Read whatever its mode: a loose mode is reported above, on its own.
            key = PemFiles.readPrivateKeyUnchecked(keyFile);
        } catch (PkiException e) {
            problems.add(new Problem(Severity.ERROR, keyFile, "cannot be read: " + e.getMessage(),
                    "put the key issued with " + certFile.getFileName() + " here, or reissue both"));
            return;
        }
        if (!belongTogether(key, cert.getPublicKey())) {
            problems.add(new Problem(Severity.ERROR, keyFile, "is not the key of " + certFile.getFileName(),
                    "put the key issued with " + certFile.getFileName() + " here, or reissue both"));
        }
    }

    private X509Certificate certificate(Path file, List<Problem> problems) {
        if (!Files.exists(file)) {
            problems.add(new Problem(Severity.ERROR, file, "is missing",
                    "copy it from the directory 'ferry pki issue', 'ferry pki client' or 'ferry pki init' made"));
            return null;
        }
        try {
            return PemFiles.readCertificate(file);
        } catch (PkiException e) {
            problems.add(new Problem(Severity.ERROR, file, "cannot be read: " + e.getMessage(),
                    "put the PEM certificate 'ferry pki' wrote here"));
            return null;
        }
    }

    private static boolean signedBy(X509Certificate cert, PublicKey issuerKey) {
        try {
            cert.verify(issuerKey);
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Signs a random challenge with the key and checks it with the certificate's public key. */
    static boolean belongTogether(PrivateKey key, PublicKey pub) {
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(challenge);
            byte[] signature = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(pub);
            v.update(challenge);
            return v.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
