package dev.ferry.pki;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * The cluster's certificate authority: a directory holding {@code ca-cert.pem} and
 * {@code ca-key.pem}. It issues host certificates (CN = the host, OU = {@value Identity#HOSTS_UNIT},
 * serverAuth and clientAuth, SANs for the host's names and addresses) and operator certificates
 * (CN = the operator, OU = {@value Identity#OPERATORS_UNIT}, clientAuth only).
 */
public final class CertificateAuthority {
    public static final String CA_KEY = "ca-key.pem";
    /** Certificates start to be valid a little in the past, so a peer whose clock lags a few minutes accepts them. */
    static final Duration BACKDATE = Duration.ofMinutes(5);

    private final Path dir;
    private final X509Certificate cert;
    private final PrivateKey key;
    private final Clock clock;

    private CertificateAuthority(Path dir, X509Certificate cert, PrivateKey key, Clock clock) {
        this.dir = dir;
        this.cert = cert;
        this.key = key;
        this.clock = clock;
    }

    /** Makes a new CA in {@code dir} (created 0700 if missing); refuses to replace an existing one. */
    public static CertificateAuthority init(Path dir, String name, Duration validity, Clock clock) throws PkiException {
        createPrivateDir(dir);
        if (Files.exists(dir.resolve(TlsDir.CA_CERT)) || Files.exists(dir.resolve(CA_KEY))) {
            throw new PkiException(dir + " already holds a CA (" + TlsDir.CA_CERT + " or " + CA_KEY
                    + "); a new CA would orphan every certificate it issued. Choose another directory");
        }
        KeyPair pair = CertificateMaker.newKeyPair();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, Identity.ORGANIZATION)
                .addRDN(BCStyle.CN, name).build();
        Instant now = clock.instant();
        X509Certificate cert = CertificateMaker.make(new CertificateMaker.Profile(subject, true,
                KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature, List.of(), List.of()),
                pair.getPublic(), null, pair.getPrivate(), now.minus(BACKDATE), now.plus(validity));
        PemFiles.writePrivateKey(dir.resolve(CA_KEY), pair.getPrivate());
        PemFiles.writeCertificate(dir.resolve(TlsDir.CA_CERT), cert);
        return new CertificateAuthority(dir, cert, pair.getPrivate(), clock);
    }

    /** The CA in {@code dir}; its key must be private to its owner. */
    public static CertificateAuthority load(Path dir, Clock clock) throws PkiException {
        X509Certificate cert = PemFiles.readCertificate(dir.resolve(TlsDir.CA_CERT));
        PrivateKey key = PemFiles.readPrivateKey(dir.resolve(CA_KEY));
        if (cert.getBasicConstraints() < 0) {
            throw new PkiException(dir.resolve(TlsDir.CA_CERT) + " is not a CA certificate; give the directory"
                    + " 'ferry pki init' made");
        }
        return new CertificateAuthority(dir, cert, key, clock);
    }

    public X509Certificate certificate() {
        return cert;
    }

    /**
     * A host's certificate in {@code out}, as QEMU's {@code tls-creds-x509} reads it: the CA, and one
     * certificate and key under both the server and the client names.
     */
    public void issueHost(String host, List<String> dnsNames, List<InetAddress> addresses, Duration validity, Path out)
            throws PkiException {
        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
        addresses.forEach(a -> names.add(new GeneralName(GeneralName.iPAddress, new DEROctetString(a.getAddress()))));
        if (names.isEmpty()) {
            throw new PkiException("host '" + host + "' needs at least one --dns NAME or --ip ADDR: peers and QEMU"
                    + " check the name they connect to against these");
        }
        KeyPair pair = CertificateMaker.newKeyPair();
        X509Certificate issued = issue(Identity.HOSTS_UNIT, host, KeyUsage.digitalSignature | KeyUsage.keyEncipherment,
                List.of(KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth), names, pair, validity);
        TlsDir dir = new TlsDir(out);
        createPrivateDir(out);
        requireAbsent(dir.caCert(), dir.serverKey(), dir.serverCert(), dir.clientKey(), dir.clientCert());
        PemFiles.writeCertificate(dir.caCert(), cert);
        PemFiles.writePrivateKey(dir.serverKey(), pair.getPrivate());
        PemFiles.writeCertificate(dir.serverCert(), issued);
        PemFiles.writePrivateKey(dir.clientKey(), pair.getPrivate());
        PemFiles.writeCertificate(dir.clientCert(), issued);
    }

    /** An operator's client certificate in {@code out}: the CA and the client pair. */
    public void issueOperator(String name, Duration validity, Path out) throws PkiException {
        KeyPair pair = CertificateMaker.newKeyPair();
        X509Certificate issued = issue(Identity.OPERATORS_UNIT, name, KeyUsage.digitalSignature,
                List.of(KeyPurposeId.id_kp_clientAuth), List.of(), pair, validity);
        TlsDir dir = new TlsDir(out);
        createPrivateDir(out);
        requireAbsent(dir.caCert(), dir.clientKey(), dir.clientCert());
        PemFiles.writeCertificate(dir.caCert(), cert);
        PemFiles.writePrivateKey(dir.clientKey(), pair.getPrivate());
        PemFiles.writeCertificate(dir.clientCert(), issued);
    }

    private X509Certificate issue(String unit, String cn, int keyUsage, List<KeyPurposeId> purposes,
                                  List<GeneralName> names, KeyPair pair, Duration validity) throws PkiException {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, Identity.ORGANIZATION)
                .addRDN(BCStyle.OU, unit).addRDN(BCStyle.CN, cn).build();
        Instant now = clock.instant();
        Instant notAfter = now.plus(validity);
        if (notAfter.isAfter(cert.getNotAfter().toInstant())) {
            notAfter = cert.getNotAfter().toInstant();
        }
        return CertificateMaker.make(new CertificateMaker.Profile(subject, false, keyUsage, purposes, names),
                pair.getPublic(), cert, key, now.minus(BACKDATE), notAfter);
    }

    /** Checked before anything is written, so a refused issue leaves no half-written directory. */
    private static void requireAbsent(Path... files) throws PkiException {
        for (Path f : files) {
            if (Files.exists(f)) {
                throw new PkiException(f + " already exists and is never overwritten; issue into a new directory"
                        + " (--out) and swap it in, see docs/security.md on rotating certificates");
            }
        }
    }

    /** A directory only its owner may enter, made so from the start; an existing one is used as it is. */
    private static void createPrivateDir(Path dir) throws PkiException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw new PkiException(dir + " exists and is not a directory; choose another path", e);
            }
        } catch (IOException e) {
            throw new PkiException("cannot make the directory " + dir + ": " + e.getMessage()
                    + "; check that its parent exists and is writable", e);
        }
    }

    @Override
    public String toString() {
        return "CA " + cert.getSubjectX500Principal() + " in " + dir;
    }
}
