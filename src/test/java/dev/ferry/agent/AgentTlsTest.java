package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.pki.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An agent with {@code tls} refuses, before it touches anything, a certificate directory that would not work. */
class AgentTlsTest {
    @TempDir
    Path dir;

    private Agent start(Path tlsDir) {
        return Agent.start(TestAgents.config(dir.resolve("data"), "node1").withTls(tlsDir),
                TestAgents.parts(new FakeVmHost(dir.resolve("data/run")), Clock.systemUTC()));
    }

    @Test
    void start_withAGoodDirectory_servesHttpsOnTheChosenPort() throws Exception {
        TestPki pki = TestPki.in(dir.resolve("pki"));
        try (Agent agent = start(pki.host("node1", "node1"))) {
            assertThat(agent.url().toString()).startsWith("https://127.0.0.1:").endsWith(":" + agent.port());
            assertThat(Files.readString(agent.config().portFile()).strip()).isEqualTo(Integer.toString(agent.port()));
        }
    }

    @Test
    void start_withAWorldReadableKey_isRefused_andNoStateIsMade() throws Exception {
        Path host = TestPki.in(dir.resolve("pki")).host("node1", "node1");
        Files.setPosixFilePermissions(host.resolve("server-key.pem"), PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> start(host)).isInstanceOf(AgentStartException.class)
                .hasMessageContaining("tls.dir " + host + " cannot be used").hasMessageContaining("chmod 600");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void start_withTheCaOfAnotherCluster_isRefused() throws Exception {
        Path host = TestPki.in(dir.resolve("pki")).host("node1", "node1");
        Path other = TestPki.in(dir.resolve("other")).caDir();
        Files.copy(other.resolve("ca-cert.pem"), host.resolve("ca-cert.pem"), StandardCopyOption.REPLACE_EXISTING);

        assertThatThrownBy(() -> start(host)).isInstanceOf(AgentStartException.class)
                .hasMessageContaining("was not signed by the CA in ca-cert.pem");
    }
}
