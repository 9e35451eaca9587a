package dev.ferry.device.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.vm.QemuTls;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NbdTargetTest {
    @Test
    void uri_isWhatQemuImgTakes() {
        assertThat(new NbdTarget("10.0.0.2", 10809, "disk0").uri()).isEqualTo("nbd://10.0.0.2:10809/disk0");
    }

    @Test
    void uri_bracketsIpv6Addresses() {
        assertThat(new NbdTarget("fd00::2", 10809, "disk0").uri()).isEqualTo("nbd://[fd00::2]:10809/disk0");
    }

    @Test
    void withHost_keepsPortAndExport() {
        assertThat(new NbdTarget("0.0.0.0", 4000, "data").withHost("dest.example"))
                .isEqualTo(new NbdTarget("dest.example", 4000, "data"));
    }

    @Test
    void invalidPortIsRefusedNamingTheExport() {
        assertThatThrownBy(() -> new NbdTarget("h", 0, "disk0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'disk0'");
    }

    @Test
    void clientNode_isAnNbdBlockdevForTheExport() {
        assertThat(new NbdTarget("10.0.0.2", 10809, "disk0").clientNode("nbd-disk0")).isEqualTo(Map.of(
                "driver", "nbd", "node-name", "nbd-disk0", "export", "disk0",
                "server", Map.of("type", "inet", "host", "10.0.0.2", "port", "10809")));
    }

    @Test
    void serverAndExportArgumentsAreWhatQemuExpects() {
        assertThat(NbdExport.serverArgs("127.0.0.1", 4000, false)).isEqualTo(
                Map.of("addr", Map.of("type", "inet", "data", Map.of("host", "127.0.0.1", "port", "4000"))));
        assertThat(NbdExport.exportArgs("disk0", "disk0-fmt")).isEqualTo(Map.of(
                "type", "nbd", "id", "disk0", "node-name", "disk0-fmt", "name", "disk0", "writable", true));
    }

    @Test
    void clientNode_overTls_namesTheCredentialsAndTheNameTheExportsCertificateMustCarry() {
        NbdTarget target = new NbdTarget("10.0.0.2", 10809, "disk0").withTls(new QemuTls.Peer("ferry-tls", "node2"));

        assertThat(target.clientNode("nbd-disk0"))
                .containsEntry("tls-creds", "ferry-tls")
                .containsEntry("tls-hostname", "node2")
                .containsEntry("export", "disk0");
        assertThat(target.withHost("10.0.0.3").tls()).isEqualTo(target.tls());
    }

    @Test
    void serverArgs_overTls_requireTheCredentialsAndTheAuthorization() {
        assertThat(NbdExport.serverArgs("127.0.0.1", 4000, true))
                .containsEntry("tls-creds", QemuTls.CREDS)
                .containsEntry("tls-authz", QemuTls.AUTHZ);
    }
}
