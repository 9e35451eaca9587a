package dev.ferry.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.pki.Identity;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rules of who may call what, one caller kind at a time. */
class ClientAccessTest {
    private static final Identity OPERATOR = new Identity(Identity.Kind.OPERATOR, "alice", "CN=alice,OU=operators");
    private static final Identity PEER = new Identity(Identity.Kind.HOST, "node2", "CN=node2,OU=hosts");
    private final ClientAccess access = new ClientAccess(Set.of("node2"));

    @Test
    void caller_withoutCertificate_is401() {
        assertThatThrownBy(() -> ClientAccess.caller(null)).isInstanceOfSatisfying(AccessDeniedException.class, e -> {
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.code()).isEqualTo("unauthenticated");
            assertThat(e.getMessage()).contains("--cert DIR");
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
