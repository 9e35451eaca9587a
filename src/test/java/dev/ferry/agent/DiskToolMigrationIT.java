package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration of the test guest whose data disk is local to the source and moved by the
 * operator's disk tool instead of Ferry's mirror: the destination creates the copy, the incoming
 * QEMU opens it, and the tool fills it in place at post-suspend (the guest paused, QEMU flushed)
 * from the path it is given.
 */
class DiskToolMigrationIT {
    private static final String VM = "toolvm";

    private final ProcessRunner runner = new ProcessRunner();
    private Lab lab;
    private Api onA;
    private Api onB;
    private Path calls;

    @BeforeEach
    void bootTheGuestOnA(@TempDir Path root) throws Exception {
        Path sourceImage = root.resolve("source-data.raw");
        calls = root.resolve("tool.calls");
        lab = Lab.in(root).tool("disk", diskTool(sourceImage, calls), Map.of()).start();
        onA = lab.api(Lab.A);
        onB = lab.api(Lab.B);
        assertThat(runner.run(Command.of("qemu-img", "create", "-q", "-f", "raw", sourceImage.toString(), "64M")).ok())
                .isTrue();
        String spec = TestGuest.named(VM).disk(sourceImage).diskFormat("raw").localDisk().withoutTpm().yaml();
        GuestConsole up = TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), false, 10);
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
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void diskTool_fillsTheDestinationsCopy_andNoAcknowledgedRecordIsLost() throws Exception {
        MigrationReport report = migrateToB();

        assertThat(report.failure()).isNull();
        assertThat(report.result().wireName()).isEqualTo("completed");
        Path copy = lab.agent(Lab.B).dataDir().resolve("images").resolve(VM).resolve("data0.raw");
        assertThat(Files.readAllLines(calls)).as("the tool learns the path once the destination prepared it")
                .containsExactly("check ", "pre-suspend " + copy, "post-suspend " + copy, "sync " + copy);
        assertThat(onB.get("/v1/vms/" + VM).body().path("spec").asText()).contains(copy.toString());
        GuestConsole source = GuestConsole.read(lab.agent(Lab.A).dataDir().resolve("logs")
                .resolve(VM + "." + report.id() + ".serial.log"));
        GuestConsole dest = GuestConsole.await(onB.serialLog(VM), c -> c.lastWrote() >= source.lastWrote() + 20,
                Duration.ofSeconds(30));
        assertThat(dest.lastWrote()).as("the guest goes on writing on the destination")
                .isGreaterThanOrEqualTo(source.lastWrote() + 20);

        long acknowledged = GuestConsole.read(onB.serialLog(VM)).lastWrote();
        onB.post("/v1/vms/" + VM + "/destroy", null);
        DiskReport disk = DiskVerifier.verify(copy, runner);
        assertThat(disk.clean()).as("%s", disk).isTrue();
        assertThat(disk.highestContiguous()).as("every record acknowledged on either host is on the copy")
                .isGreaterThanOrEqualTo(acknowledged);
    }

    private MigrationReport migrateToB() throws IOException, InterruptedException {
        String id = onA.startMigration(new MigrateRequest(VM, Lab.B, false, null, null, null, null, 20L));
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);
        assertThat(done.running()).isFalse();
        return done.report();
    }
}
