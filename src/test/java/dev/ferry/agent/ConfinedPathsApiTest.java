package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.RestoreRequest;
import dev.ferry.agent.api.SaveRequest;
import dev.ferry.migration.PeerProtocol;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.VmSpecParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paths outside the agent's roots, through the API, on a fake VM host with the real spec parser:
 * each is refused with 403 {@code path_not_allowed}, names the field, the path as given and as
 * resolved and the roots, and changes nothing.
 */
class ConfinedPathsApiTest {
    @TempDir
    Path dir;
    private Path images;
    private Path saves;
    private Path outside;
    private FakeVmHost vmHost;
    private Agent agent;
    private Api api;

    @BeforeEach
    void setUp() throws Exception {
        dir = dir.toRealPath();
        images = Files.createDirectories(dir.resolve("images"));
        saves = Files.createDirectories(dir.resolve("saves"));
        outside = Files.createDirectories(dir.resolve("elsewhere"));
        Files.writeString(images.resolve("web1.qcow2"), "image");
        Files.writeString(outside.resolve("secret.img"), "not for guests");
        vmHost = new FakeVmHost(dir.resolve("data/run"));
        PathRoots roots = PathRoots.of(dir.resolve("data"), List.of(images), List.of(), List.of(saves), List.of());
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1", roots),
                TestAgents.parts(vmHost, Clock.systemUTC(), VmSpecParser::parse));
        api = new Api(agent.url());
    }

    @AfterEach
    void tearDown() {
        agent.close();
    }

    private static String spec(String name, Path disk) {
        return "name: " + name + "\nmemoryMiB: 64\ndevices:\n  - {type: disk, id: data0, path: \"" + disk
                + "\", format: qcow2}\n";
    }

    private static void assertRefused(Api.Reply r, String... parts) {
        assertThat(r.status()).as("%s", r.body()).isEqualTo(403);
        JsonNode error = r.body().path("error");
        assertThat(error.path("code").asText()).isEqualTo("path_not_allowed");
        assertThat(error.path("message").asText()).contains(parts);
    }

    @Test
    void define_aDiskLinkedOutOfTheRoots_isRefused_andNothingIsDefined() throws Exception {
        Path link = Files.createSymbolicLink(images.resolve("web2.qcow2"), outside.resolve("secret.img"));

        assertRefused(api.post("/v1/vms", new DefineVmRequest(spec("web2", link), "/")),
                "vm 'web2': devices[0].path: " + link, "(resolved: " + outside.resolve("secret.img") + ")",
                "outside the storage roots [" + dir.resolve("data/images") + ", " + images + "]");
        assertThat(api.get("/v1/vms").body().path("vms")).isEmpty();
    }

    @Test
    void define_dotDotProcAndDevices_areRefused() throws Exception {
        assertRefused(api.post("/v1/vms", new DefineVmRequest(spec("web2", Path.of("../elsewhere/secret.img")),
                images.toString())), "devices[0].path: " + outside.resolve("secret.img"));
        assertRefused(api.post("/v1/vms", new DefineVmRequest(spec("web2", Path.of("/proc/self/environ")), "/")),
                "devices[0].path: /proc/self/environ (resolved: /proc/");
        assertRefused(api.post("/v1/vms", new DefineVmRequest(spec("web2", Path.of("/dev/zero")), "/")),
                "is a character device");
        assertRefused(api.post("/v1/vms", new DefineVmRequest("name: web2\nmemoryMiB: 64\nkernel: /proc/self/root/etc/hostname\n",
                "/")), "kernel: /proc/self/root/etc/hostname (resolved: /etc/hostname) is outside the boot roots");
        assertRefused(api.post("/v1/vms", new DefineVmRequest(spec("web2", dir.resolve("data/ferry.db")), "/")),
                "devices[0].path: " + dir.resolve("data/ferry.db"));
        assertThat(api.get("/v1/vms").body().path("vms")).isEmpty();
    }

    @Test
    void start_isCheckedAgain_andQemuIsGivenTheResolvedPath() throws Exception {
        Path link = Files.createSymbolicLink(images.resolve("current.qcow2"), Path.of("web1.qcow2"));
        assertThat(api.post("/v1/vms", new DefineVmRequest(spec("web1", link), "/")).status()).isEqualTo(201);
        Files.delete(link);
        Files.createSymbolicLink(link, outside.resolve("secret.img"));

        assertRefused(api.post("/v1/vms/web1/start", null), "(resolved: " + outside.resolve("secret.img") + ")");
        assertThat(api.get("/v1/vms/web1").body().path("state").asText()).isEqualTo("defined");
        assertThat(vmHost.started).isEmpty();

        Files.delete(link);
        Files.createSymbolicLink(link, Path.of("web1.qcow2"));
        assertThat(api.post("/v1/vms/web1/start", null).status()).isEqualTo(200);
        DeviceSpec.Disk given = (DeviceSpec.Disk) vmHost.started.get(0).device("data0").orElseThrow();
        assertThat(given.path()).as("the resolved file, not the link").isEqualTo(images.resolve("web1.qcow2"));
        assertThat(api.get("/v1/vms/web1").body().path("spec").asText()).as("the VM keeps the spec as defined")
                .contains(link.toString());
    }

    @Test
    void save_outsideTheSavesRoots_isRefused_andTheVmRunsOn() throws Exception {
        api.post("/v1/vms", new DefineVmRequest(spec("web1", images.resolve("web1.qcow2")), "/"));
        api.post("/v1/vms/web1/start", null);
        Files.createSymbolicLink(saves.resolve("out"), outside);

        assertRefused(api.post("/v1/vms/web1/save", new SaveRequest(outside.resolve("web1.save").toString())),
                "file: " + outside.resolve("web1.save"), "outside the saves roots [" + dir.resolve("data/saves") + ", " + saves + "]");
        assertRefused(api.post("/v1/vms/web1/save", new SaveRequest(saves.resolve("out/web1.save").toString())),
                "(resolved: " + outside.resolve("web1.save") + ")");
        assertRefused(api.post("/v1/vms/web1/save", new SaveRequest(saves + "/../elsewhere/web1.save")),
                "outside the saves roots");
        assertThat(api.get("/v1/vms/web1").body().path("state").asText()).isEqualTo("running");
        assertThat(api.get("/v1/migrations").body().path("migrations")).isEmpty();
        assertThat(outside.resolve("web1.save")).doesNotExist();
    }

    @Test
    void restore_ofAFileOutsideTheSavesRoots_orOfASaveWhoseDiskIsOutside_isRefused() throws Exception {
        Path out = saveFile(outside.resolve("web1.save"), spec("web1", images.resolve("web1.qcow2")));
        Path diskOut = saveFile(saves.resolve("web3.save"), spec("web3", outside.resolve("secret.img")));

        assertRefused(api.post("/v1/restore", new RestoreRequest(out.toString())), "file: " + out, "outside the saves roots");
        assertRefused(api.post("/v1/restore", new RestoreRequest(diskOut.toString())),
                "the saved vm 'web3': devices[0].path: " + outside.resolve("secret.img"), "outside the storage roots");
        assertThat(api.get("/v1/vms").body().path("vms")).isEmpty();
    }

    @Test
    void anIncomingMigration_whoseDiskIsOutsideThisHostsRoots_isABlockerAtCheck_andRefusedAtPrepare() throws Exception {
        Map<String, Object> body = Map.of("protocol", PeerProtocol.VERSION, "migrationId", "m1", "sourceHost", "a",
                "spec", spec("web4", outside.resolve("secret.img")).replace("format: qcow2", "format: qcow2, shared: true"),
                "mode", "live");

        Api.Reply check = api.post("/v1/peer/migrations/m1/check", body);
        assertThat(check.status()).isEqualTo(200);
        assertThat(check.body().path("blockers").get(0).path("device").asText()).isEqualTo("devices[0]");
        assertThat(check.body().path("blockers").get(0).path("reason").asText())
                .contains("devices[0].path: " + outside.resolve("secret.img"), "outside the storage roots");
        assertRefused(api.post("/v1/peer/migrations/m1/prepare", body), "outside the storage roots");
        assertThat(api.get("/v1/vms").body().path("vms")).isEmpty();
    }

    @Test
    void withoutRoots_theErrorSaysToAddStorage() throws Exception {
        agent.close();
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1", PathRoots.dataDirOnly(dir.resolve("data"))),
                TestAgents.parts(vmHost, Clock.systemUTC(), VmSpecParser::parse));
        api = new Api(agent.url());

        assertRefused(api.post("/v1/vms", new DefineVmRequest(spec("web1", images.resolve("web1.qcow2")), "/")),
                "outside the storage roots [" + dir.resolve("data/images") + "]",
                "add its directory to storage in the agent configuration");
        assertThat(dir.resolve("data/saves")).as("every agent has its saves directory").isDirectory();
    }

    /** A save file as 'ferry save' writes it: magic, header, spec, then (here, stand-in) stream bytes. */
    private static Path saveFile(Path file, String spec) throws Exception {
        byte[] specBytes = spec.getBytes(StandardCharsets.UTF_8);
        String head = "FERRY-SAVE 1\n{\"vm\":\"x\",\"uuid\":\"" + java.util.UUID.randomUUID()
                + "\",\"savedAt\":\"2030-01-01T00:00:00Z\",\"specBytes\":" + specBytes.length + "}\n";
        Files.write(file, (head + spec + "QEMU stream").getBytes(StandardCharsets.UTF_8));
        return file;
    }
}
