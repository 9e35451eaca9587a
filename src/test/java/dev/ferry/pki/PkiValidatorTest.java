package dev.ferry.pki;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.pki.PkiValidator.Problem;
import dev.ferry.pki.PkiValidator.Severity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per problem {@code ferry pki validate} reports, each on an otherwise good directory. */
class PkiValidatorTest {
    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

    @TempDir
    Path root;
    private TestPki pki;
    private Path host;
    private final PkiValidator validator = new PkiValidator(Clock.fixed(NOW, ZoneOffset.UTC));

    @BeforeEach
    void makeTheCluster() throws Exception {
        pki = TestPki.at(root, "ca", NOW.minus(Duration.ofDays(10)));
        host = pki.host("node1", "node1");
    }

    private List<Problem> errors(Path dir) {
        return validator.validate(dir).stream().filter(p -> p.severity() == Severity.ERROR).toList();
    }

    @Test
    void validate_goodHostOperatorAndCaDirectories_findsNothing() throws Exception {
        assertThat(validator.validate(host)).isEmpty();
        assertThat(validator.validate(pki.operator("alice", "alice"))).isEmpty();
        assertThat(validator.validate(pki.caDir())).isEmpty();
    }

    @Test
    void validate_expiredCertificate_saysWhenAndHowToReissue() throws Exception {
        Path old = root.resolve("old");
        pki.ca().issueHost("node2", List.of("node2"), List.of(), Duration.ofDays(1), old);

        assertThat(errors(old)).anySatisfy(p -> {
            assertThat(p.file()).isEqualTo(old.resolve("server-cert.pem"));
            assertThat(p.problem()).startsWith("expired on ");
            assertThat(p.fix()).contains("ferry pki issue");
        });
    }

    @Test
    void validate_certificateExpiringSoon_isAWarningOnly() throws Exception {
        Path soon = root.resolve("soon");
        pki.ca().issueHost("node2", List.of("node2"), List.of(), Duration.ofDays(20), soon);

        assertThat(errors(soon)).isEmpty();
        assertThat(validator.validate(soon)).anySatisfy(p -> {
            assertThat(p.severity()).isEqualTo(Severity.WARNING);
            assertThat(p.problem()).contains("expires on");
        });
    }

    @Test
    void validate_keyOfAnotherCertificate_isAMismatch() throws Exception {
        Path other = pki.host("node2", "node2");
        Files.copy(other.resolve("client-key.pem"), host.resolve("client-key.pem"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.COPY_ATTRIBUTES);

        assertThat(errors(host)).singleElement().satisfies(p -> {
            assertThat(p.file()).isEqualTo(host.resolve("client-key.pem"));
            assertThat(p.problem()).isEqualTo("is not the key of client-cert.pem");
        });
    }

    @Test
    void validate_certificateOfAnotherCa_isNotSignedByThisOne() throws Exception {
        TestPki otherCa = TestPki.at(root, "other-ca", NOW.minus(Duration.ofDays(10)));
        Files.copy(otherCa.caDir().resolve("ca-cert.pem"), host.resolve("ca-cert.pem"), StandardCopyOption.REPLACE_EXISTING);

        assertThat(errors(host)).hasSize(2).allSatisfy(p -> {
            assertThat(p.problem()).startsWith("was not signed by the CA in ca-cert.pem");
            assertThat(p.fix()).contains("reissue it with this cluster's CA");
        });
    }

    @Test
    void validate_serverCertificateWithoutSans_namesTheMissingSans() throws Exception {
        // 'ferry pki issue' refuses to make one; a certificate made elsewhere may lack them.
        CertificateAuthority ca = pki.ca();
        PrivateKey caKey = PemFiles.readPrivateKey(pki.caDir().resolve("ca-key.pem"));
        KeyPair pair = CertificateMaker.newKeyPair();
        X509Certificate bare = CertificateMaker.make(new CertificateMaker.Profile(new X500Name("CN=node3,OU=hosts"), false,
                        KeyUsage.digitalSignature | KeyUsage.keyEncipherment,
                        List.of(KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth), List.of()),
                pair.getPublic(), ca.certificate(), caKey, NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(90)));
        Path dir = Files.createDirectory(root.resolve("node3"));
        PemFiles.writeCertificate(dir.resolve("ca-cert.pem"), ca.certificate());
        PemFiles.writeCertificate(dir.resolve("server-cert.pem"), bare);
        PemFiles.writePrivateKey(dir.resolve("server-key.pem"), pair.getPrivate());

        assertThat(errors(dir)).singleElement().satisfies(p -> {
            assertThat(p.file()).isEqualTo(dir.resolve("server-cert.pem"));
            assertThat(p.problem()).startsWith("names no host in subjectAltName");
            assertThat(p.fix()).contains("--dns NAME --ip ADDR");
        });
    }

    @Test
    void validate_groupReadableKey_saysChmod() throws Exception {
        Files.setPosixFilePermissions(host.resolve("server-key.pem"), PosixFilePermissions.fromString("rw-r--r--"));

        assertThat(errors(host)).singleElement().satisfies(p -> {
            assertThat(p.file()).isEqualTo(host.resolve("server-key.pem"));
            assertThat(p.problem()).contains("group or others");
            assertThat(p.fix()).isEqualTo("run 'chmod 600 " + host.resolve("server-key.pem") + "'");
        });
    }

    @Test
    void validate_operatorCertificateAsServer_lacksServerAuth() throws Exception {
        Path alice = pki.operator("alice", "alice");
        Files.copy(alice.resolve("client-cert.pem"), host.resolve("server-cert.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(alice.resolve("client-key.pem"), host.resolve("server-key.pem"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.COPY_ATTRIBUTES);

        assertThat(errors(host)).extracting(Problem::problem)
                .anySatisfy(p -> assertThat(p).startsWith("is not for serverAuth"))
                .anySatisfy(p -> assertThat(p).startsWith("names no host in subjectAltName"));
    }

    @Test
    void validate_missingFilesAndEmptyDirectory_areNamed() throws Exception {
        Files.delete(host.resolve("client-key.pem"));
        Path empty = Files.createDirectory(root.resolve("empty"));

        assertThat(errors(host)).singleElement().satisfies(p -> assertThat(p.file()).isEqualTo(host.resolve("client-key.pem")));
        assertThat(errors(empty)).extracting(Problem::file).contains(empty.resolve("ca-cert.pem"), empty);
    }

    @Test
    void validate_certificateNotYetValid_asksAboutTheClock() throws Exception {
        PkiValidator early = new PkiValidator(Clock.fixed(NOW.minus(Duration.ofDays(30)), ZoneOffset.UTC));

        assertThat(early.validate(host)).isNotEmpty().allSatisfy(p -> assertThat(p.problem()).contains("clock"));
    }
}
