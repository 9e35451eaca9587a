package dev.ferry.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.pki.CertificateAuthority;
import dev.ferry.pki.Identity;
import dev.ferry.pki.TestPki;
import dev.ferry.pki.TlsContexts;
import dev.ferry.pki.TlsDir;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whose certificate counts, and the rules of who may call what, one caller kind at a time. */
class ClientAccessTest {
    private static final Identity OPERATOR = new Identity(Identity.Kind.OPERATOR, "alice", "CN=alice,OU=operators");
    private static final Identity PEER = new Identity(Identity.Kind.HOST, "node2", "CN=node2,OU=hosts");

    @TempDir
    Path root;
    private TestPki pki;
    private ClientAccess access;

    @BeforeEach
    void cluster() throws Exception {
        pki = TestPki.in(root.resolve("cluster"));
        access = new ClientAccess(Set.of("node2"), TlsContexts.clusterTrust(new TlsDir(pki.operator("alice", "alice"))));
    }

    private static X509Certificate[] chainIn(Path dir) throws Exception {
        try (InputStream in = Files.newInputStream(new TlsDir(dir).clientCert())) {
            return new X509Certificate[] {(X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)};
        }
    }

    @Test
    void caller_withoutCertificate_is401() {
        assertThatThrownBy(() -> access.caller(null)).isInstanceOfSatisfying(AccessDeniedException.class, e -> {
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.code()).isEqualTo("unauthenticated");
            assertThat(e.getMessage()).contains("--cert DIR");
        });
    }

    @Test
    void caller_withACertificateOfThisCluster_isItsHolder() throws Exception {
        Identity caller = access.caller(chainIn(root.resolve("cluster").resolve("alice")));

        assertThat(caller.kind()).isEqualTo(Identity.Kind.OPERATOR);
        assertThat(caller.name()).isEqualTo("alice");
    }

    @Test
    void caller_withAnotherClustersCertificate_is401_namingItsIssuer() throws Exception {
        Path mallory = TestPki.in(root.resolve("other"), "other-ca", Clock.systemUTC()).operator("mallory", "mallory");

        assertThatThrownBy(() -> access.caller(chainIn(mallory))).isInstanceOfSatisfying(AccessDeniedException.class, e -> {
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.caller().name()).as("logged with its subject").isEqualTo("mallory");
            assertThat(e.getMessage()).contains("'CN=mallory", "was not issued by this cluster's CA", "Test CA other-ca");
        });
    }

    @Test
    void caller_withAnExpiredCertificate_is401_sayingWhen() throws Exception {
        Instant longAgo = Instant.now().minus(Duration.ofDays(30));
        Path late = root.resolve("late");
        CertificateAuthority.load(pki.caDir(), Clock.fixed(longAgo, ZoneOffset.UTC)).issueOperator("late", Duration.ofDays(1), late);

        assertThatThrownBy(() -> access.caller(chainIn(late))).isInstanceOfSatisfying(AccessDeniedException.class, e -> {
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.getMessage()).contains("'CN=late", "expired on " + longAgo.plus(Duration.ofDays(1)).toString().substring(0, 10));
        });
    }

    @Test
    void operator_mayCallTheApi_butNotThePeerApi() {
        assertThatCode(() -> access.decide(OPERATOR, "/v1/vms")).doesNotThrowAnyException();
        assertThatCode(() -> access.decide(OPERATOR, "/v1/migrations/abc/cancel")).doesNotThrowAnyException();
        assertThatThrownBy(() -> access.decide(OPERATOR, "/v1/peer/migrations/abc/prepare"))
                .isInstanceOfSatisfying(AccessDeniedException.class, e -> assertThat(e.status()).isEqualTo(403));
    }

    @Test
    void knownPeer_mayCallOnlyThePeerApi() {
        assertThatCode(() -> access.decide(PEER, "/v1/peer/migrations/abc/switchover")).doesNotThrowAnyException();
        assertThatThrownBy(() -> access.decide(PEER, "/v1/vms")).isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("may call only the peer API");
        assertThatThrownBy(() -> access.decide(PEER, "/v1/peer")).as("the prefix needs its slash")
                .isInstanceOf(AccessDeniedException.class);
    }

    @Test
    void unknownHost_andUnmarkedCertificate_areRefused() {
        Identity stranger = new Identity(Identity.Kind.HOST, "node9", "CN=node9,OU=hosts");
        Identity unmarked = new Identity(Identity.Kind.OTHER, "x", "CN=x");

        assertThatThrownBy(() -> access.decide(stranger, "/v1/peer/migrations/abc/check"))
                .hasMessageContaining("host 'node9' is not a peer of this agent (its peers are [node2])");
        assertThatThrownBy(() -> access.decide(unmarked, "/v1/vms")).hasMessageContaining("neither a host's");
    }
}
