package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.pki.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

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
    void start_insecure_warnsOnEveryStart() {
        Logger logger = (Logger) LoggerFactory.getLogger(AgentTls.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try {
            AgentConfig plain = TestAgents.config(dir.resolve("data"), "node1");
            AgentConfig insecure = new AgentConfig(plain.host(), plain.listen(), 0, plain.dataDir(), plain.qemu(),
                    plain.swtpm(), plain.tools(), plain.peers(), plain.accel(), plain.roots(), null, true);
            for (int start = 1; start <= 2; start++) {
                Agent.start(insecure, TestAgents.parts(new FakeVmHost(dir.resolve("data/run")), Clock.systemUTC())).close();
            }
        } finally {
            logger.detachAppender(logged);
        }

        assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.WARN)
                .extracting(ILoggingEvent::getFormattedMessage).hasSize(2)
                .allSatisfy(m -> assertThat(m).contains("serves plain HTTP").contains("insecure: true").contains("tls: {dir:"));
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
