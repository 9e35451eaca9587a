package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.Agent;
import dev.ferry.agent.FakeVmHost;
import dev.ferry.agent.TestAgents;
import dev.ferry.pki.TestPki;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry pki} and {@code --cert} against an agent in this JVM serving HTTPS with client certificates. */
class TlsCliTest {
    @TempDir
    Path dir;
    private TestPki pki;
    private Path operator;
    private Agent agent;

    record Run(int exit, String out, String err) {}

    @BeforeEach
    void startATlsAgent() throws Exception {
        pki = TestPki.in(dir.resolve("pki"));
        operator = pki.operator("alice", "alice");
        Path host = pki.host("node1", "node1");
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1").withTls(host),
                TestAgents.parts(new FakeVmHost(dir.resolve("data/run")), Clock.systemUTC()));
    }

    @AfterEach
    void stop() {
        agent.close();
    }

    private Run ferry(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void agentUrl_isHttps_andListsVms_withCertOrFerryCert() {
        assertThat(agent.url().getScheme()).isEqualTo("https");

        Run withOption = ferry(Map.of(), "vm", "list", "--agent", agent.url().toString(), "--cert", operator.toString());
        Run withEnv = ferry(Map.of("FERRY_AGENT", agent.url().toString(), "FERRY_CERT", operator.toString()), "vm", "list", "--json");

        assertThat(withOption.exit()).as(withOption.err()).isZero();
        assertThat(withEnv.exit()).as(withEnv.err()).isZero();
        assertThat(withEnv.out()).contains("\"vms\":[]");
    }

    @Test
    void httpsAgent_withoutCert_isAUsageErrorSayingWhatToPass() {
        Run r = ferry(Map.of(), "vm", "list", "--agent", agent.url().toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("requires a client certificate; pass --cert DIR or set $FERRY_CERT");
    }

    @Test
    void plainHttpAgent_withCert_isAUsageError() {
        Run r = ferry(Map.of(), "vm", "list", "--agent", "http://127.0.0.1:1", "--cert", operator.toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("is for https:// agents");
    }

    @Test
    void certOfAnotherCluster_failsTheHandshake_exit3() throws Exception {
        Path stranger = TestPki.in(dir.resolve("other")).operator("mallory", "mallory");

        Run r = ferry(Map.of(), "vm", "list", "--agent", agent.url().toString(), "--cert", stranger.toString());

        assertThat(r.exit()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("the TLS handshake with the agent at " + agent.url() + " failed");
    }

    @Test
    void agentWhoseCertificateDoesNotNameTheUrlsHost_isRefusedByTheCli() throws Exception {
        Path named = dir.resolve("named");
        pki.ca().issueHost("node2", java.util.List.of("node2.example"), java.util.List.of(), TestPki.YEAR, named);
        try (Agent other = Agent.start(TestAgents.config(dir.resolve("data2"), "node2").withTls(named),
                TestAgents.parts(new FakeVmHost(dir.resolve("data2/run")), Clock.systemUTC()))) {
            Run r = ferry(Map.of(), "vm", "list", "--agent", other.url().toString(), "--cert", operator.toString());

            assertThat(r.exit()).as(r.err()).isEqualTo(3);
            assertThat(r.err()).contains("TLS handshake").contains("127.0.0.1");
        }
    }

    @Test
    void cert_withAWorldReadableKey_isRefusedBeforeAnyCall() throws Exception {
        Files.setPosixFilePermissions(operator.resolve("client-key.pem"), PosixFilePermissions.fromString("rw-r--r--"));

        Run r = ferry(Map.of(), "vm", "list", "--agent", agent.url().toString(), "--cert", operator.toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--cert: ").contains("chmod 600");
    }

    @Test
    void pkiCommands_makeAClusterThatValidates_andValidateFailsOnALooseKey() throws Exception {
        Path ca = dir.resolve("ca2");
        Path host = dir.resolve("node2");
        Path ops = dir.resolve("bob");

        assertThat(ferry(Map.of(), "pki", "init", ca.toString()).exit()).isZero();
        Run issued = ferry(Map.of(), "pki", "issue", "node2", "--ca", ca.toString(), "--dns", "node2.example",
                "--ip", "10.0.0.2", "--out", host.toString());
        assertThat(issued.exit()).as(issued.err()).isZero();
        assertThat(ferry(Map.of(), "pki", "client", "bob", "--ca", ca.toString(), "--out", ops.toString()).exit()).isZero();
        for (Path d : new Path[] {ca, host, ops}) {
            Run ok = ferry(Map.of(), "pki", "validate", d.toString());
            assertThat(ok.exit()).as(ok.out()).isZero();
            assertThat(ok.out()).contains(d + ": ok");
        }

        Files.setPosixFilePermissions(host.resolve("server-key.pem"), PosixFilePermissions.fromString("rw-rw----"));
        Run bad = ferry(Map.of(), "pki", "validate", host.toString());

        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.out()).contains("error: " + host.resolve("server-key.pem")).contains("chmod 600");
    }

    @Test
    void pkiIssue_nameForIp_isAUsageError() {
        Run r = ferry(Map.of(), "pki", "issue", "node2", "--ca", pki.caDir().toString(), "--ip", "node2.example",
                "--out", dir.resolve("x").toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--ip node2.example: not an IP address; give names with --dns");
    }
}
