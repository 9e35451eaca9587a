package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.api.RestoreRequest;
import dev.ferry.agent.api.SaveRequest;
import dev.ferry.migration.PeerProtocol;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The migration endpoints' answers to bad requests, against a real server with a fake VM host. */
class MigrationApiTest {
    @TempDir
    Path dir;
    private Agent agent;
    private Api api;

    @BeforeEach
    void setUp() throws Exception {
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1"),
                TestAgents.parts(new FakeVmHost(dir.resolve("data/run")), Clock.systemUTC()));
        api = new Api(agent.url());
        api.post("/v1/vms", new DefineVmRequest("name: web1\n", "/specs"));
    }

    @AfterEach
    void tearDown() {
        agent.close();
    }

    private void assertError(Api.Reply r, int status, String code, String messagePart) throws Exception {
        assertThat(r.status()).as("%s", r.body()).isEqualTo(status);
        JsonNode error = r.body().path("error");
        assertThat(error.path("code").asText()).isEqualTo(code);
        assertThat(error.path("message").asText()).contains(messagePart);
        assertThat(api.get("/v1/host").status()).as("the agent still serves").isEqualTo(200);
    }

    private static MigrateRequest migrate(String vm, String to) {
        return new MigrateRequest(vm, to, null, null, null, null, null, null);
    }

    @Test
    void migrate_toAnUnknownHost_namesTheKnownPeers() throws Exception {
        assertError(api.post("/v1/migrations", migrate("web1", "nowhere")), 400, "invalid_request",
                "to: unknown host 'nowhere'; known peers are []");
    }

    @Test
    void migrate_withoutVmOrDestination_saysWhichIsMissing() throws Exception {
        assertError(api.post("/v1/migrations", migrate(null, "http://127.0.0.1:1")), 400, "invalid_request", "vm: missing");
        assertError(api.post("/v1/migrations", migrate("web1", null)), 400, "invalid_request", "to: missing");
    }

    @Test
    void migrate_anUnknownVm_is404() throws Exception {
        assertError(api.post("/v1/migrations", migrate("ghost", "http://127.0.0.1:1")), 404, "not_found", "vm 'ghost' not found");
    }

    @Test
    void migrate_aVmThatDoesNotRun_isAConflictThatSaysToStartIt() throws Exception {
        assertError(api.post("/v1/migrations", migrate("web1", "http://127.0.0.1:1")), 409, "conflict",
                "vm 'web1' is defined; only a running or paused VM can be migrated or saved");
    }

    @Test
    void migrate_withNonsenseTuning_namesTheParameter() throws Exception {
        assertError(api.post("/v1/migrations", new MigrateRequest("web1", "http://127.0.0.1:1", null, 0L, null, null, null, null)),
                400, "invalid_request", "downtime limit must be positive");
        assertError(api.post("/v1/migrations", new MigrateRequest("web1", "http://127.0.0.1:1", null, null, -5L, null, null, null)),
                400, "invalid_request", "bandwidth must be 0");
    }

    @Test
    void dryRun_toAnUnreachablePeer_reportsItAsABlocker() throws Exception {
        Api.Reply r = api.post("/v1/migrations", new MigrateRequest("web1", "http://127.0.0.1:1", true, null, null, null, null, null));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().path("report").path("result").asText()).isEqualTo("refused");
        assertThat(r.body().path("report").path("blockers").get(0).path("reason").asText()).contains("cannot reach agent");
        assertThat(api.get("/v1/migrations").body().path("migrations")).as("dry runs stay out of the history").isEmpty();
    }

    @Test
    void showAndCancel_ofAnUnknownMigration_are404() throws Exception {
        assertError(api.get("/v1/migrations/nope"), 404, "not_found", "migration 'nope' not found");
        assertError(api.post("/v1/migrations/nope/cancel", null), 404, "not_found", "migration 'nope' not found");
    }

    @Test
    void save_needsAnAbsolutePath() throws Exception {
        assertError(api.post("/v1/vms/web1/save", new SaveRequest("relative.save")), 400, "invalid_request",
                "is not an absolute path");
    }

    @Test
    void restore_ofAFileThatIsNoSave_saysSo() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.save"), "hello\n");
        assertError(api.post("/v1/restore", new RestoreRequest(junk.toString())), 400, "invalid_request",
                "is not a Ferry save file");
        assertError(api.post("/v1/restore", new RestoreRequest(dir.resolve("gone.save").toString())), 400,
                "invalid_request", "gone.save does not exist on this host");
    }

    @Test
    void peerCall_whoseBodyNamesAnotherMigration_isRefused() throws Exception {
        Map<String, String> body = Map.of("migrationId", "other", "sourceHost", "a", "spec", "name: x\n", "mode", "live");
        assertError(api.post("/v1/peer/migrations/m1/prepare", body), 400, "invalid_request",
                "migrationId (equal to the one in the path)");
    }

    @Test
    void peerSwitchover_ofAMigrationThisHostNeverPrepared_isNotTaken() throws Exception {
        Map<String, String> body = Map.of("migrationId", "m1", "sourceHost", "a", "spec", "name: x\n", "mode", "live");
        assertError(api.post("/v1/peer/migrations/m1/switchover", body), 409, "not_taken", "no incoming migration m1");
    }

    @Test
    void peerCalls_fromAnotherProtocolVersion_areRefusedNamingBothVersions() throws Exception {
        Map<String, Object> body = Map.of("protocol", PeerProtocol.VERSION + 1, "migrationId", "m1", "sourceHost", "a",
                "spec", "name: x\nmemoryMiB: 64\n", "mode", "live");
        Api.Reply check = api.post("/v1/peer/migrations/m1/check", body);
        assertThat(check.status()).isEqualTo(200);
        assertThat(check.body().toString()).contains("peer protocol version " + (PeerProtocol.VERSION + 1))
                .contains("this host speaks version " + PeerProtocol.VERSION);
        assertError(api.post("/v1/peer/migrations/m1/prepare", body), 409, "conflict",
                "peer protocol version " + (PeerProtocol.VERSION + 1) + " and this host speaks version "
                        + PeerProtocol.VERSION);
    }
}
