package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.pki.CertificateAuthority;
import dev.ferry.pki.TestPki;
import dev.ferry.proc.ProcResult;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real agents serving their API over mutual TLS: every caller the rules turn away is refused
 * with the right answer and changes nothing, the CLI with an operator's certificate works over
 * https, and a live migration's peer calls go over mTLS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MutualTlsIT {
    private static final String VM = "tlsvm";
    private static final Map<String, String> DEFINE = Map.of("spec", "name: intruder\nmemoryMiB: 64\n", "baseDir", "/tmp");

    private Lab lab;
    private Api onA;
    private Api onB;
    private Path root;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        this.root = root;
        lab = Lab.in(root).tls().start();
        onA = lab.api(Lab.A);
        onB = lab.api(Lab.B);
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @AfterEach
    void nothingChanged_unlessTheTestMigrated() throws Exception {
        assertThat(onA.get("/v1/vms").body().path("vms").findValuesAsText("name")).doesNotContain("intruder");
    }

    /** The API of {@code host} as seen by whoever holds {@code context}. */
    private Api as(String host, SSLContext context) {
        return new Api(lab.agent(host).url(), context);
    }

    private Api asCertificate(String host, Path certDir) {
        return as(host, Lab.clientContext(certDir));
    }

    @Test
    void noClientCertificate_gets401() throws Exception {
        Api anonymous = as(Lab.A, trustingOnly(lab.pki().caDir().resolve("ca-cert.pem")));

        Api.Reply r = anonymous.post("/v1/vms", DEFINE);

        assertUnauthenticated(r, "requires a client certificate");
    }

    @Test
    void certificateOfAnotherCa_gets401() throws Exception {
        TestPki other = TestPki.in(root.resolve("other-cluster"));
        Path mallory = other.operator("mallory", "mallory");
        // Mallory checks the agent against this cluster's CA, so the handshake completes and the agent judges her certificate.
        Files.copy(lab.pki().caDir().resolve("ca-cert.pem"), mallory.resolve("ca-cert.pem"), StandardCopyOption.REPLACE_EXISTING);
        Api stranger = asCertificate(Lab.A, mallory);

        Api.Reply r = stranger.post("/v1/vms", DEFINE);

        assertUnauthenticated(r, "'CN=mallory", "was not issued by this cluster's CA");
    }

    @Test
    void expiredOperatorCertificate_gets401() throws Exception {
        Instant longAgo = Instant.now().minus(Duration.ofDays(30));
        Path expired = root.resolve("expired");
        CertificateAuthority.load(lab.pki().caDir(), Clock.fixed(longAgo, ZoneOffset.UTC))
                .issueOperator("late", Duration.ofDays(1), expired);

        Api.Reply r = asCertificate(Lab.A, expired).post("/v1/vms", DEFINE);

        assertUnauthenticated(r, "'CN=late", "expired on");
    }

    private static void assertUnauthenticated(Api.Reply r, String... says) {
        assertThat(r.status()).as("%s", r.body()).isEqualTo(401);
        assertThat(r.body().path("error").path("code").asText()).isEqualTo("unauthenticated");
        assertThat(r.body().path("error").path("message").asText()).contains(says);
    }

    @Test
    void peerCertificate_callingAnOperatorEndpoint_gets403() throws Exception {
        Api.Reply r = asCertificate(Lab.A, lab.root().resolve("pki").resolve(Lab.B)).post("/v1/vms", DEFINE);

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body().path("error").path("code").asText()).isEqualTo("forbidden");
        assertThat(r.body().path("error").path("message").asText()).contains("host '" + Lab.B + "' may call only the peer API");
    }

    @Test
    void operatorCertificate_callingAPeerEndpoint_gets403() throws Exception {
        Api.Reply r = onA.post("/v1/peer/migrations/m1/check", peerRequest("m1", Lab.B));

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body().path("error").path("message").asText()).contains("operator 'lab-operator' may not call the peer API");
        assertThat(onA.get("/v1/migrations").body().path("migrations")).isEmpty();
    }

    @Test
    void hostCertificate_ofNoKnownPeer_gets403() throws Exception {
        Path unknown = lab.pki().host("host-z", "host-z");

        Api.Reply r = asCertificate(Lab.A, unknown).post("/v1/peer/migrations/m2/check", peerRequest("m2", "host-z"));

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body().path("error").path("message").asText()).contains("host 'host-z' is not a peer of this agent");
    }

    @Test
    void peer_speakingForAnotherSourceHost_gets403_butMayCallThePeerApiAsItself() throws Exception {
        Api asB = asCertificate(Lab.A, lab.root().resolve("pki").resolve(Lab.B));

        Api.Reply spoofed = asB.post("/v1/peer/migrations/m3/check", peerRequest("m3", "host-c"));
        Api.Reply own = asB.get("/v1/peer/migrations/m3/ownership");

        assertThat(spoofed.status()).isEqualTo(403);
        assertThat(spoofed.body().path("error").path("message").asText()).contains("may not speak for source host 'host-c'");
        assertThat(own.status()).isEqualTo(200);
    }

    @Test
    void cli_withCert_listsVmsOverHttps_andWithoutItSaysWhatIsMissing() throws Exception {
        ProcResult listed = lab.agent(Lab.A).ferry("vm", "list", "--json");
        assertThat(listed.ok()).as(listed.describe() + " " + listed.stderr().text()).isTrue();
        assertThat(listed.stdout().text()).contains("\"vms\"");

        ProcResult bare = lab.agent(Lab.A).ferryWithoutCert("vm", "list");
        assertThat(bare.exitCode()).isEqualTo(2);
        assertThat(bare.stderr().text()).contains("requires a client certificate").contains("--cert DIR");
    }

    @Test
    void liveMigration_betweenTlsAgents_completes_andAnAgentOfAnotherClusterIsNotTrusted() throws Exception {
        Path disk = TestGuest.createDisk(root.resolve("data.qcow2"));
        GuestConsole up = TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, TestGuest.named(VM).disk(disk).yaml()), true, 3);

        String id = onA.startMigration(new MigrateRequest(VM, Lab.B, false, null, null, null, null, 20L));
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);

        assertThat(done.report().result().wireName()).as("%s", done.report()).isEqualTo("completed");
        assertThat(onB.vmState(VM)).isEqualTo("running");
        assertThat(onA.vm(VM).status()).isEqualTo(404);
        GuestConsole there = GuestConsole.await(onB.serialLog(VM), c -> c.lastTick() > c.firstTick() + 3 && c.pcrs().size() == 8,
                Duration.ofSeconds(60));
        assertThat(there.pcrs()).isEqualTo(up.pcrs());

        // An agent of another cluster, given as a URL: B does not trust its certificate, so nothing starts.
        Path strangerHost = TestPki.in(root.resolve("stranger")).host("host-s", "host-s");
        try (Agent stranger = Agent.start(TestAgents.config(root.resolve("stranger-data"), "host-s").withTls(strangerHost),
                TestAgents.parts(new FakeVmHost(root.resolve("stranger-data/run")), Clock.systemUTC()))) {
            String refusedId = onB.startMigration(new MigrateRequest(VM, stranger.url().toString(), false, null, null, null,
                    null, 20L));
            MigrationStatus refused = onB.awaitMigration(refusedId, Duration.ofMinutes(1)).as(MigrationStatus.class);

            assertThat(refused.report().result().wireName()).as("%s", refused.report()).isNotEqualTo("completed");
            assertThat(onB.get("/v1/migrations/" + refusedId).body().toString()).contains("PKIX");
            assertThat(onB.vmState(VM)).isEqualTo("running");
            assertThat(stranger.service().list()).isEmpty();
        }
    }

    private static Map<String, Object> peerRequest(String id, String sourceHost) {
        return Map.of("protocol", 1, "migrationId", id, "sourceHost", sourceHost, "spec", "name: intruder\nmemoryMiB: 64\n",
                "mode", "live", "guestRunning", true);
    }

    /** A client that trusts the cluster CA but has no certificate of its own to present. */
    private static SSLContext trustingOnly(Path caCert) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        try (InputStream in = Files.newInputStream(caCert)) {
            trusted.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trusted);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
