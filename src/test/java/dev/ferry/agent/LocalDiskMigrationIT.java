package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.proc.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration of the test guest whose data disk is local to the source: the destination makes
 * its own copy, fed over NBD while the guest keeps writing. The guest is booted once for the class
 * and reused while it runs on the source; a test that finds it elsewhere boots it there again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalDiskMigrationIT {
    private static final String VM = "localvm";

    private final ProcessRunner runner = new ProcessRunner();
    private Lab lab;
    private Api onA;
    private Api onB;
    private Path sourceImage;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        lab = Lab.in(root).fakeTool("fault", Map.of()).start();
        onA = lab.api(Lab.A);
        onB = lab.api(Lab.B);
        sourceImage = TestGuest.createDisk(root.resolve("local-data.qcow2"));
    }

    @BeforeEach
    void guestWritesOnA() throws Exception {
        lab.tool().reset();
        if (onA.vmState(VM).equals("running")) {
            return;
        }
        onA.removeIfPresent(VM);
        onB.removeIfPresent(VM);
        Files.deleteIfExists(destinationCopy());
        String spec = TestGuest.named(VM).disk(sourceImage).localDisk().withoutTpm().external("san0", "fault").yaml();
        GuestConsole up = TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), false, 10);
        assertThat(up.lastWrote()).as("the guest writes to its local disk").isGreaterThanOrEqualTo(10);
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void failureAfterTheCopyStarted_rollsBack_sourceKeepsWriting_destinationHasNothingLeft() throws Exception {
        lab.tool().failAt("post-suspend", "link to the storage array dropped");

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).as("recovery failures: %s", report.recoveryFailures()).isEqualTo("rolled-back");
        assertThat(report.failure().message()).contains("link to the storage array dropped");
        assertThat(report.deviceSteps()).anySatisfy(s -> {
            assertThat(s.device()).isEqualTo("data0");
            assertThat(s.step()).isEqualTo("post-suspend");
        });
        assertThat(onA.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        long wrote = GuestConsole.read(onA.serialLog(VM)).lastWrote();
        GuestConsole later = GuestConsole.await(onA.serialLog(VM), c -> c.lastWrote() >= wrote + 10, Duration.ofSeconds(30));
        assertThat(later.lastWrote()).as("the guest goes on writing on the source").isGreaterThanOrEqualTo(wrote + 10);
        assertThat(onB.get("/v1/vms").body().path("vms")).isEmpty();
        Path images = lab.agent(Lab.B).dataDir().resolve("images");
        if (Files.exists(images)) {
            try (Stream<Path> left = Files.walk(images)) {
                assertThat(left.filter(Files::isRegularFile)).as("no copy left on the destination").isEmpty();
            }
        }
        assertThat(lab.processesIn(lab.agent(Lab.B).runRoot())).as("no QEMU left on the destination").isEmpty();
    }

    @Test
    void liveMigration_copiesTheDiskWhileTheGuestWrites_andNoAcknowledgedRecordIsLost() throws Exception {
        MigrationReport report = migrateToB();

        assertThat(report.failure()).isNull();
        assertThat(report.result().wireName()).isEqualTo("completed");
        GuestConsole source = GuestConsole.read(lab.agent(Lab.A).dataDir().resolve("logs")
                .resolve(VM + "." + report.id() + ".serial.log"));
        GuestConsole dest = GuestConsole.await(onB.serialLog(VM), c -> c.lastWrote() >= source.lastWrote() + 20, Duration.ofSeconds(30));
        assertThat(dest.lastWrote()).as("the guest goes on writing on the destination").isGreaterThanOrEqualTo(source.lastWrote() + 20);
        Path copy = destinationCopy();
        assertThat(onB.get("/v1/vms/" + VM).body().path("spec").asText()).contains(copy.toString());

        long acknowledged = GuestConsole.read(onB.serialLog(VM)).lastWrote();
        onB.post("/v1/vms/" + VM + "/destroy", null);
        DiskReport disk = DiskVerifier.verify(copy, runner);
        assertThat(disk.clean()).as("%s", disk).isTrue();
        assertThat(disk.highestContiguous()).as("every record acknowledged on either host is on the copy")
                .isGreaterThanOrEqualTo(acknowledged);
    }

    /** Where the destination agent puts its copy of the guest's local disk. */
    private Path destinationCopy() {
        return lab.agent(Lab.B).dataDir().resolve("images").resolve(VM).resolve("data0.qcow2");
    }

    private MigrationReport migrateToB() throws Exception {
        String id = onA.startMigration(new MigrateRequest(VM, Lab.B, false, null, null, null, null, 20L));
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);
        assertThat(done.running()).isFalse();
        return done.report();
    }
}
