package dev.ferry.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.RunningProcess;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpErrorException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's own TLS library (GnuTLS) takes what {@code ferry pki} writes: a {@code tls-creds-x509}
 * object loads and checks its directory when it is created, so QEMU starting with one on its command
 * line, and {@code object-add} answering without error, mean the files were accepted.
 */
class QemuTlsCredsIT {
    private final ProcessRunner runner = new ProcessRunner();
    @TempDir
    Path root;
    private TestPki pki;
    private Path host;
    private RunningProcess qemu;
    private QmpClient qmp;

    @BeforeEach
    void startQemuWithTheHostsServerCredentials() throws Exception {
        pki = TestPki.in(root);
        host = pki.host("node1", "node1");
        Path socket = root.resolve("qmp.sock");
        qemu = runner.start(Command.of("qemu-system-x86_64", "-machine", "none", "-S", "-nodefaults", "-display", "none",
                "-qmp", "unix:" + socket + ",server=on,wait=off",
                "-object", "tls-creds-x509,id=boot,dir=" + host + ",endpoint=server,verify-peer=on"));
        qmp = QmpClient.connect(socket, Duration.ofSeconds(30));
    }

    @AfterEach
    void stopQemu() throws Exception {
        if (qmp != null) {
            qmp.close();
        }
        if (qemu != null && qemu.isAlive()) {
            qemu.kill();
            qemu.await(Duration.ofSeconds(10));
        }
    }

    private void add(String id, Path dir, String endpoint) throws Exception {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("qom-type", "tls-creds-x509");
        args.put("id", id);
        args.put("dir", dir.toString());
        args.put("endpoint", endpoint);
        args.put("verify-peer", true);
        qmp.execute("object-add", args);
    }

    @Test
    void qemu_startsWithTheServerEndpoint_andAddsClientEndpoints() throws Exception {
        assertThat(qemu.isAlive()).isTrue();
        assertThat(qmp.execute("qom-get", Map.of("path", "/objects/boot", "property", "endpoint")).asText()).isEqualTo("server");

        add("as-client", host, "client");
        add("another-server", pki.host("node2", "node2"), "server");
        add("operator", pki.operator("alice", "alice"), "client");

        assertThat(qmp.execute("qom-get", Map.of("path", "/objects/as-client", "property", "endpoint")).asText()).isEqualTo("client");
    }

    @Test
    void qemu_refusesAKeyOfAnotherCertificate_soTheCheckAboveCanFail() throws Exception {
        Path other = pki.host("node2", "node2");
        Files.copy(other.resolve("server-key.pem"), host.resolve("server-key.pem"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.COPY_ATTRIBUTES);

        assertThatThrownBy(() -> add("mismatch", host, "server")).isInstanceOf(QmpErrorException.class);
        assertThatThrownBy(() -> add("operator-as-server", pki.operator("alice", "alice"), "server"))
                .isInstanceOf(QmpErrorException.class).hasMessageContaining("server-cert.pem");
    }
}
