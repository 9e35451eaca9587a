package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class QemuTlsTest {
    @Test
    void qemuIdentity_isTheSubjectInTheCertificatesOrder_asGnuTlsWritesIt() {
        assertThat(QemuTls.qemuIdentity("CN=host-a,OU=hosts,O=Ferry cluster")).isEqualTo("O=Ferry cluster,OU=hosts,CN=host-a");
    }

    @Test
    void qemuIdentity_ofNoName_saysWhatItGot() {
        assertThatThrownBy(() -> QemuTls.qemuIdentity("not a name")).hasMessageContaining("'not a name'");
    }

    @Test
    void credsObject_verifiesThePeer_atEitherEnd() {
        assertThat(new QemuTls(Path.of("/etc/ferry/pki")).credsObject("server"))
                .containsEntry("qom-type", "tls-creds-x509")
                .containsEntry("id", QemuTls.CREDS)
                .containsEntry("dir", "/etc/ferry/pki")
                .containsEntry("endpoint", "server")
                .containsEntry("verify-peer", true);
    }
}
