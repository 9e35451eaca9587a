package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestConsole;
import dev.ferry.guest.GuestKit;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Live migration of the test guest whose data disk is local to the source and moved by the
 * operator's disk tool instead of Ferry's mirror: the destination creates the copy, the incoming
 * QEMU opens it, and the tool fills it in place at post-suspend (the guest paused, QEMU flushed)
 * from the path it is given.
 */
class DiskToolMigrationIT {
    private static final String VM = "toolvm";

    private final ProcessRunner runner = new ProcessRunner();
    private Path root;
    private Path sourceImage;
    private Path calls;
    private Agent a;
    private Agent b;
    private Api onA;
    private Api onB;

    @BeforeEach
    void bootTheGuestOnA() throws Exception {
        root = Files.createTempDirectory("ferry-disktool-it");
        GuestArtifacts kit = GuestKit.inUserCache(runner).build();
        sourceImage = root.resolve("source-data.raw");
        calls = root.resolve("tool.calls");
        Path tool = diskTool(sourceImage, calls);
        int portA = freePort();
        int portB = freePort();
        a = agent("host-a", portA, "host-b", portB, tool);
        b = agent("host-b", portB, "host-a", portA, tool);
        onA = new Api(a.url());
        onB = new Api(b.url());
        assertThat(runner.run(Command.of("qemu-img", "create", "-q", "-f", "raw", sourceImage.toString(), "64M")).ok())
                .isTrue();
        String spec = """
                name: %s
                memoryMiB: 256
                kernel: "%s"
                initrd: "%s"
                cmdline: "%s"
                devices:
                  - {type: disk, id: data0, path: "%s", format: raw, shared: false}
                  - {type: nic, id: net0, backend: user}
                """.formatted(VM, kit.kernel(), kit.initramfs(), kit.kernelCmdline(), sourceImage);
        assertThat(onA.post("/v1/vms", new DefineVmRequest(spec, root.toString())).status()).isEqualTo(201);
        assertThat(onA.post("/v1/vms/" + VM + "/start", null).status()).isEqualTo(200);
        GuestConsole up = GuestConsole.await(serialLog(onA), c -> c.lastWrote() >= 10, Duration.ofSeconds(120));
        assertThat(up.lastWrote()).as("the guest writes to its local disk").isGreaterThanOrEqualTo(10);
    }

    /**
     * A ferry-dialect disk tool that logs each call and, at post-suspend, copies the source image
     * over the destination's copy without truncating it: the incoming QEMU has that file open.
     */
    private static Path diskTool(Path source, Path calls) throws IOException {
        Path tool = source.resolveSibling("disk-tool");
        Files.writeString(tool, """
                #!/bin/sh
                step=""; dest=""
                while [ $# -gt 0 ]; do
                  case "$1" in
                    --step) step="$2"; shift 2 ;;
                    --destination-path) dest="$2"; shift 2 ;;
                    *) shift ;;
                  esac
                done
                echo "$step $dest" >> '%s'
                if [ "$step" = post-suspend ]; then
                  [ -n "$dest" ] || { echo '{"error":"no destination path given"}'; exit 1; }
                  dd if='%s' of="$dest" bs=1M conv=notrunc,fsync status=none || exit 1
                fi
                exit 0
                """.formatted(calls, source));
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        return tool;
    }

    @AfterEach
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
    void diskTool_fillsTheDestinationsCopy_andNoAcknowledgedRecordIsLost() throws Exception {
        MigrationReport report = migrateToB();

        assertThat(report.failure()).isNull();
        assertThat(report.result().wireName()).isEqualTo("completed");
        Path copy = b.config().dataDir().resolve("images").resolve(VM).resolve("data0.raw");
        assertThat(Files.readAllLines(calls)).as("the tool learns the path once the destination prepared it")
                .containsExactly("check ", "pre-suspend " + copy, "post-suspend " + copy, "sync " + copy);
        assertThat(onB.get("/v1/vms/" + VM).body().path("spec").asText()).contains(copy.toString());
        GuestConsole source = GuestConsole.read(a.config().dataDir().resolve("logs")
                .resolve(VM + "." + report.id() + ".serial.log"));
        GuestConsole dest = GuestConsole.await(serialLog(onB), c -> c.lastWrote() >= source.lastWrote() + 20,
                Duration.ofSeconds(30));
        assertThat(dest.lastWrote()).as("the guest goes on writing on the destination")
                .isGreaterThanOrEqualTo(source.lastWrote() + 20);

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
                "peers:", "  " + peer + ": http://127.0.0.1:" + peerPort, "tools:", "  disk:", "    path: " + tool, ""));
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
