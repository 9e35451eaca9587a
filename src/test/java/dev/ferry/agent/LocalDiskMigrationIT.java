package dev.ferry.agent;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.migration.MigrationStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.migration.MigrationReport;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.RunDir;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Live migration of the test guest whose data disk is local to the source: the destination makes
 * its own copy, fed over NBD while the guest keeps writing. One guest serves both tests, in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalDiskMigrationIT {
    private static final String VM = "localvm";

    private final ProcessRunner runner = new ProcessRunner();
    private final int portA = freePort();
    private final int portB = freePort();
    private Path root;
    private Path control;
    private Path sourceImage;
    private Agent a;
    private Agent b;
    private Api onA;
    private Api onB;

    @BeforeAll
    void bootTheGuestOnA() throws Exception {
        root = Files.createTempDirectory("ferry-localdisk-it");
        GuestArtifacts kit = GuestKit.inUserCache(runner).build();
        control = root.resolve("tool.control");
        Path tool = root.resolve("fault-tool");
        Files.writeString(tool, """
                #!/bin/sh
                if [ "$(cat '%s' 2>/dev/null)" = "fail" ] && [ "$2" = "post-suspend" ]; then
                  echo '{"error":"link to the storage array dropped"}'; exit 1
                fi
                exit 0
                """.formatted(control));
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        a = agent("host-a", portA, "host-b", portB, tool);
        b = agent("host-b", portB, "host-a", portA, tool);
        onA = new Api(a.url());
        onB = new Api(b.url());
        sourceImage = root.resolve("local-data.qcow2");
        assertThat(runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", sourceImage.toString(), "64M")).ok()).isTrue();
        String spec = """
                name: %s
                memoryMiB: 256
                kernel: "%s"
                initrd: "%s"
                cmdline: "%s"
                devices:
                  - {type: disk, id: data0, path: "%s", format: qcow2, shared: false}
                  - {type: nic, id: net0, backend: user}
                  - {type: external, id: san0, kind: fault}
                """.formatted(VM, kit.kernel(), kit.initramfs(), kit.kernelCmdline(), sourceImage);
        assertThat(onA.post("/v1/vms", new DefineVmRequest(spec, root.toString())).status()).isEqualTo(201);
        assertThat(onA.post("/v1/vms/" + VM + "/start", null).status()).isEqualTo(200);
        GuestConsole up = GuestConsole.await(serialLog(onA), c -> c.lastWrote() >= 10, Duration.ofSeconds(120));
        assertThat(up.lastWrote()).as("the guest writes to its local disk").isGreaterThanOrEqualTo(10);
    }

    @AfterAll
    void cleanUp() throws Exception {
        for (Api api : new Api[] {onA, onB}) {
            if (api != null) {
                api.post("/v1/vms/" + VM + "/destroy", null);
            }
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        ProcResult left = runner.run(Command.of("pgrep", "-af", root.toString()));
        assertThat(left.ok()).as("processes left behind: %s", left.stdout().text()).isFalse();
        TestAgents.delete(root);
    }

    @Test
    @Order(1)
    void failureAfterTheCopyStarted_rollsBack_sourceKeepsWriting_destinationHasNothingLeft() throws Exception {
        Files.writeString(control, "fail");

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).as("recovery failures: %s", report.recoveryFailures()).isEqualTo("rolled-back");
        assertThat(report.failure().message()).contains("link to the storage array dropped");
        assertThat(report.deviceSteps()).anySatisfy(s -> {
            assertThat(s.device()).isEqualTo("data0");
            assertThat(s.step()).isEqualTo("post-suspend");
        });
        assertThat(onA.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        long wrote = GuestConsole.read(serialLog(onA)).lastWrote();
        GuestConsole later = GuestConsole.await(serialLog(onA), c -> c.lastWrote() >= wrote + 10, Duration.ofSeconds(30));
        assertThat(later.lastWrote()).as("the guest goes on writing on the source").isGreaterThanOrEqualTo(wrote + 10);
        assertThat(onB.get("/v1/vms").body().path("vms")).isEmpty();
        Path images = b.config().dataDir().resolve("images");
        if (Files.exists(images)) {
            try (Stream<Path> left = Files.walk(images)) {
                assertThat(left.filter(Files::isRegularFile)).as("no copy left on the destination").isEmpty();
            }
        }
        ProcResult qemu = runner.run(Command.of("pgrep", "-f", b.config().runRoot().toString()));
        assertThat(qemu.ok()).as("no QEMU left on the destination").isFalse();
    }

    @Test
    @Order(2)
    void liveMigration_copiesTheDiskWhileTheGuestWrites_andNoAcknowledgedRecordIsLost() throws Exception {
        Files.writeString(control, "ok");

        MigrationReport report = migrateToB();

        assertThat(report.failure()).isNull();
        assertThat(report.result().wireName()).isEqualTo("completed");
        GuestConsole source = GuestConsole.read(a.config().dataDir().resolve("logs").resolve(VM + "." + report.id() + ".serial.log"));
        GuestConsole dest = GuestConsole.await(serialLog(onB), c -> c.lastWrote() >= source.lastWrote() + 20, Duration.ofSeconds(30));
        assertThat(dest.lastWrote()).as("the guest goes on writing on the destination").isGreaterThanOrEqualTo(source.lastWrote() + 20);
        Path copy = b.config().dataDir().resolve("images").resolve(VM).resolve("data0.qcow2");
        assertThat(onB.get("/v1/vms/" + VM).body().path("spec").asText()).contains(copy.toString());

        long acknowledged = GuestConsole.read(serialLog(onB)).lastWrote();
        onB.post("/v1/vms/" + VM + "/destroy", null);
        DiskReport disk = DiskVerifier.verify(copy, runner);
        assertThat(disk.clean()).as("%s", disk).isTrue();
        assertThat(disk.highestContiguous()).as("every record acknowledged on either host is on the copy")
                .isGreaterThanOrEqualTo(acknowledged);
    }

    private MigrationReport migrateToB() throws IOException, InterruptedException {
        Api.Reply started = onA.post("/v1/migrations", new MigrateRequest(VM, "host-b", false, null, null, null, null, 20L));
        assertThat(started.status()).as("%s", started.body()).isEqualTo(202);
        MigrationStatus done = onA.awaitMigration(started.as(MigrationStatus.class).id(), Duration.ofMinutes(3));
        assertThat(done.running()).isFalse();
        return done.report();
    }

    private Path serialLog(Api api) throws Exception {
        return new RunDir(Path.of(api.get("/v1/vms/" + VM).body().path("runDir").asText())).serialLog();
    }

    private Agent agent(String host, int port, String peer, int peerPort, Path tool) throws Exception {
        Path data = Files.createDirectories(root.resolve(host));
        Path config = data.resolve("agent.yaml");
        Files.writeString(config, String.join("\n", "host: " + host, "port: " + port, "dataDir: " + data,
                "peers:", "  " + peer + ": http://127.0.0.1:" + peerPort, "tools:", "  fault:", "    path: " + tool, ""));
        return Agent.start(AgentConfig.load(config));
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
