package dev.ferry.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code ferry pki} writes, checked by the tools that read it: openssl, and GnuTLS's certtool (QEMU's TLS library). */
class CertificateAuthorityTest {
    private final ProcessRunner runner = new ProcessRunner();
    @TempDir
    Path root;
    private TestPki pki;
    private Path host;
    private Path operator;

    @BeforeEach
    void makeTheCluster() throws Exception {
        pki = TestPki.in(root);
        host = pki.host("node1", "node1");
        operator = pki.operator("alice", "alice");
    }

    private ProcResult run(String... argv) throws Exception {
        return runner.run(Command.of(argv).timeout(Duration.ofSeconds(30)));
    }

    @Test
    void issueHost_writesQemusLayout_withPrivateKeysAndDirectory() throws Exception {
        assertThat(host).isDirectoryContaining(p -> p.getFileName().toString().equals("server-cert.pem"));
        for (String f : List.of("ca-cert.pem", "server-cert.pem", "server-key.pem", "client-cert.pem", "client-key.pem")) {
            assertThat(host.resolve(f)).isRegularFile();
        }
        assertThat(mode(host.resolve("server-key.pem"))).isEqualTo("rw-------");
        assertThat(mode(host.resolve("client-key.pem"))).isEqualTo("rw-------");
        assertThat(mode(pki.caDir().resolve("ca-key.pem"))).isEqualTo("rw-------");
        assertThat(mode(host)).isEqualTo("rwx------");
        assertThat(mode(host.resolve("server-cert.pem"))).isEqualTo("rw-r--r--");
    }

    @Test
    void issueHost_certificate_hasBothPurposes_keyUsage_sans_andHostCn() throws Exception {
        X509Certificate cert = PemFiles.readCertificate(host.resolve("server-cert.pem"));

        assertThat(cert.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        boolean[] usage = cert.getKeyUsage();
        assertThat(usage[0]).as("digitalSignature").isTrue();
        assertThat(usage[2]).as("keyEncipherment").isTrue();
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(Identity.alternativeNames(cert)).containsExactlyInAnyOrder("localhost", "127.0.0.1");
        assertThat(Identity.of(cert)).extracting(Identity::kind, Identity::name).containsExactly(Identity.Kind.HOST, "node1");
    }

    @Test
    void issueOperator_isClientOnly_andMarkedAsOperator() throws Exception {
        X509Certificate cert = PemFiles.readCertificate(operator.resolve("client-cert.pem"));

        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        assertThat(Identity.of(cert)).extracting(Identity::kind, Identity::name).containsExactly(Identity.Kind.OPERATOR, "alice");
        assertThat(operator.resolve("server-cert.pem")).doesNotExist();
    }

    @Test
    void opensslVerify_acceptsIssuedCertificates_andReadsTheKeys() throws Exception {
        for (Path cert : List.of(host.resolve("server-cert.pem"), host.resolve("client-cert.pem"), operator.resolve("client-cert.pem"))) {
            ProcResult r = run("openssl", "verify", "-CAfile", pki.caDir().resolve("ca-cert.pem").toString(), cert.toString());
            assertThat(r.ok()).as(r.describe() + " " + r.stdout().text()).isTrue();
            assertThat(r.stdout().text()).contains(": OK");
        }
        for (Path key : List.of(host.resolve("server-key.pem"), operator.resolve("client-key.pem"), pki.caDir().resolve("ca-key.pem"))) {
            ProcResult r = run("openssl", "pkey", "-in", key.toString(), "-noout");
            assertThat(r.ok()).as(key + ": " + r.describe()).isTrue();
        }
    }

    @Test
    void opensslVerify_checksThePurposes() throws Exception {
        String ca = pki.caDir().resolve("ca-cert.pem").toString();

        assertThat(run("openssl", "verify", "-purpose", "sslserver", "-CAfile", ca, host.resolve("server-cert.pem").toString()).ok()).isTrue();
        assertThat(run("openssl", "verify", "-purpose", "sslclient", "-CAfile", ca, host.resolve("client-cert.pem").toString()).ok()).isTrue();
        assertThat(run("openssl", "verify", "-purpose", "sslserver", "-CAfile", ca, operator.resolve("client-cert.pem").toString()).ok())
                .as("an operator's certificate is no server's").isFalse();
    }

    @Test
    void keys_carryTheirPublicKey_asGnuTlsNeeds() throws Exception {
        // QEMU 7.2's GnuTLS refuses EC PKCS#8 keys without the public key; certtool reads keys as GnuTLS does.
        ProcResult r = run("certtool", "--key-info", "--infile", host.resolve("server-key.pem").toString());
        assertThat(r.ok()).as(r.describe()).isTrue();
        try (var reader = Files.newBufferedReader(host.resolve("server-key.pem"));
             var parser = new org.bouncycastle.openssl.PEMParser(reader)) {
            var info = (org.bouncycastle.asn1.pkcs.PrivateKeyInfo) parser.readObject();
            var ec = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
            assertThat(ec.getPublicKey()).as("the public key inside the PKCS#8 key").isNotNull();
            assertThat(info.getPrivateKeyAlgorithm().getParameters().toString()).as("named curve P-256")
                    .isEqualTo("1.2.840.10045.3.1.7");
        }
    }

    @Test
    void init_refusesToReplaceAnExistingCa() {
        assertThatThrownBy(() -> CertificateAuthority.init(pki.caDir(), "again", Duration.ofDays(1), Clock.systemUTC()))
                .isInstanceOf(PkiException.class).hasMessageContaining("already holds a CA");
    }

    @Test
    void issue_neverOverwrites_andLeavesAnExistingDirectoryAsItWas() throws Exception {
        byte[] before = Files.readAllBytes(host.resolve("server-key.pem"));

        assertThatThrownBy(() -> pki.host("node1", "node1")).isInstanceOf(PkiException.class)
                .hasMessageContaining("already exists and is never overwritten");
        assertThat(Files.readAllBytes(host.resolve("server-key.pem"))).isEqualTo(before);
    }

    @Test
    void issueHost_withoutNamesOrAddresses_isRefused() {
        assertThatThrownBy(() -> pki.ca().issueHost("node2", List.of(), List.<InetAddress>of(), TestPki.YEAR, root.resolve("n2")))
                .isInstanceOf(PkiException.class).hasMessageContaining("--dns NAME or --ip ADDR");
    }

    @Test
    void readPrivateKey_refusesAGroupReadableKey() throws Exception {
        Path key = host.resolve("client-key.pem");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));

        assertThatThrownBy(() -> PemFiles.readPrivateKey(key)).isInstanceOf(PkiException.class)
                .hasMessageContaining("group or others").hasMessageContaining("chmod 600 " + key);
        assertThatThrownBy(() -> TlsContexts.client(new TlsDir(host))).isInstanceOf(PkiException.class)
                .hasMessageContaining("chmod 600");
    }

    @Test
    void load_refusesAWorldReadableCaKey() throws Exception {
        Files.setPosixFilePermissions(pki.caDir().resolve("ca-key.pem"), PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> CertificateAuthority.load(pki.caDir(), Clock.systemUTC()))
                .isInstanceOf(PkiException.class).hasMessageContaining("chmod 600");
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
