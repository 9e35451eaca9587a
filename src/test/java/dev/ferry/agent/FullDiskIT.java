package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.LinkProxy;
import dev.ferry.lab.SmallDisk;
import dev.ferry.lab.TestGuest;
import dev.ferry.migration.MigrationStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destination whose data directory (state database, run directories) and images directory (copies
 * of local disks) are small file systems of their own, as docs/storage.md tells operators to set
 * them up, that fill: the images before prepare, the data directory during the local-disk copy with
 * a failure to roll back from, the images during a copy that goes through, and the run directories
 * (where swtpm keeps a vTPM's state) before switchover. Whatever happens,
 * the VM runs on exactly one host and the destination keeps nothing of a migration that did not end
 * there. Needs root to mount the small file systems; skips saying so elsewhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FullDiskIT {
    private static final String VM = "fullvm";
    /** A guest with a vTPM and a shared disk, for the run directories' file system filling before switchover. */
    private static final String TPM_VM = "tpmvm";
    /** Room for the run directories (QEMU's and swtpm's files, the serial log), which get a file system of their own. */
    private static final int RUN_MIB = 16;
    /** A test that defines its own guest: the shared one is not started for it. */
    private static final String OWN_GUEST = "own-guest";
    /** Room for the agent's files (SQLite's library, the database, its reserve and backups, run directories). */
    private static final int DATA_MIB = 40;
    /** Room for the copy of the 64 MiB qcow2 data disk (its allocation + 64 MiB headroom), not much more. */
    private static final int IMAGES_MIB = 96;
    /** TCG on a machine shared with other builds boots slowly; this bounds a wait for progress, not its speed. */
    private static final Duration BOOT = Duration.ofMinutes(5);

    private Lab lab;
    private SmallDisk dataDisk;
    private SmallDisk imagesDisk;
    private SmallDisk runDisk;
    private Api onA;
    private Api onB;
    private Path sourceImage;
    private Path tpmImage;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        String[] whyNot = new String[1];
        Optional<SmallDisk> data = SmallDisk.mount(root.resolve(Lab.B), DATA_MIB, whyNot);
        assumeTrue(data.isPresent(), () -> "no small file system for the destination: " + whyNot[0]);
        dataDisk = data.get();
        imagesDisk = SmallDisk.mount(root.resolve(Lab.B).resolve("images"), IMAGES_MIB, whyNot)
                .orElseThrow(() -> new IllegalStateException(whyNot[0]));
        runDisk = SmallDisk.mount(root.resolve(Lab.B).resolve("run"), RUN_MIB, whyNot)
                .orElseThrow(() -> new IllegalStateException(whyNot[0]));
        // Plain: its link hold reads the prepare request's path, which TLS hides.
        lab = Lab.in(root).plain().linkProxies().fakeTool("fault", Map.of()).start();
        onA = lab.api(Lab.A);
        onB = lab.api(Lab.B);
        sourceImage = TestGuest.createDisk(root.resolve("full-data.qcow2"));
        tpmImage = TestGuest.createDisk(root.resolve("tpm-data.qcow2"));
    }

    @BeforeEach
    void guestWritesOnA(TestInfo test) throws Exception {
        lab.tool().reset();
        if (test.getTags().contains(OWN_GUEST)) {
            return;
        }
        if (onA.vmState(VM).equals("running")) {
            return;
        }
        onA.removeIfPresent(VM);
        onB.removeIfPresent(VM);
        String spec = TestGuest.named(VM).disk(sourceImage).localDisk().withoutTpm().external("san0", "fault").yaml();
        Path serial = lab.defineAndStart(Lab.A, VM, spec);
        GuestConsole up = GuestConsole.await(serial, c -> c.lastWrote() >= 10, BOOT);
        assertThat(up.lastWrote()).as("the guest booted and writes; see %s", serial).isGreaterThanOrEqualTo(10);
    }

    @AfterEach
    void giveTheRoomBack() throws Exception {
        for (SmallDisk disk : new SmallDisk[] {runDisk, imagesDisk, dataDisk}) {
            if (disk != null) {
                disk.unfill();
            }
        }
        if (lab != null) {
            lab.tool().reset();
            lab.linkTo(Lab.B).release();
        }
    }

    @AfterAll
    void stopTheLab() throws Exception {
        try {
            if (lab != null) {
                lab.close();
            }
        } finally {
            for (SmallDisk disk : new SmallDisk[] {runDisk, imagesDisk, dataDisk}) {
                if (disk != null) {
                    disk.close();
                }
            }
        }
    }

    @Test
    @Order(1)
    void imagesFullBeforePrepare_prepareRefusesNamingTheRoom_andNothingIsLeft() throws Exception {
        lab.linkTo(Lab.B).holdNext("/prepare ", LinkProxy.Hold.REQUEST);
        String id = onA.startMigration(request());
        assertThat(lab.linkTo(Lab.B).awaitHeld(Duration.ofSeconds(60))).as("the source asks the destination to prepare").isTrue();
        imagesDisk.fill();
        lab.linkTo(Lab.B).release();

        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);

        assertThat(done.report().result().wireName()).isNotEqualTo("completed");
        assertThat(done.report().failure().message()).as("the refusal names the copy, the room and the file system")
                .contains("data0", "no room for", "needs", "free", imagesDisk.dir().toString());
        sourceRunsAndDestinationKeepsNothing(id);
    }

    @Test
    @Order(2)
    void dataDirFillsDuringTheCopy_thenAStepFails_rollbackOnTheFullDiskLeavesNothing() throws Exception {
        lab.tool().holdAt("pre-suspend");
        String id = onA.startMigration(request());
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(90))).as("the migration reaches pre-suspend").isTrue();
        dataDisk.fill();
        lab.tool().failAt("post-suspend", "the storage array went away");
        lab.tool().release();

        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);

        assertThat(done.report().result().wireName()).as("recovery failures: %s", done.report().recoveryFailures())
                .isEqualTo("rolled-back");
        assertThat(done.report().failure().message()).contains("the storage array went away");
        sourceRunsAndDestinationKeepsNothing(id);
    }

    @Test
    @Order(3)
    void imagesFillDuringTheCopy_theCopyWasPreallocated_andTheMigrationCompletes() throws Exception {
        lab.tool().holdAt("pre-suspend");
        String id = onA.startMigration(request());
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(90))).as("the migration reaches pre-suspend").isTrue();
        imagesDisk.fill();
        lab.tool().release();

        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);

        assertThat(done.report().failure()).as("the copy had its room since prepare").isNull();
        assertThat(done.report().result().wireName()).isEqualTo("completed");
        assertThat(onB.migration(id).body().path("phase").asText()).as("the destination recorded the end").isEqualTo("completed");
        assertThat(onB.vmState(VM)).isEqualTo("running");
        assertThat(onA.get("/v1/vms").body().path("vms")).as("the source let the VM go").isEmpty();
        long wrote = GuestConsole.read(onB.serialLog(VM)).lastWrote();
        GuestConsole later = GuestConsole.await(onB.serialLog(VM), c -> c.lastWrote() >= wrote + 10, BOOT);
        assertThat(later.lastWrote()).as("the guest writes on the destination").isGreaterThanOrEqualTo(wrote + 10);
    }

    /**
     * Before the fix swtpm, unable to write the state it was handed, answered QEMU as if it had: the
     * destination took the VM with its TPM state in memory only, and the next migration of that VM
     * failed on both sides ("Setting the stateblob ... failed").
     */
    @Test
    @Order(4)
    @Tag(OWN_GUEST)
    void runDirsFullBeforeSwitchover_theVtpmStateCannotBeWritten_theSourceKeepsTheVm() throws Exception {
        for (Api api : new Api[] {onA, onB}) {
            api.removeIfPresent(VM);
        }
        // The copy of the other guest's local disk stays where it migrated to; removing it is the operator's part.
        Path leftCopy = lab.agent(Lab.B).dataDir().resolve("images").resolve(VM);
        if (Files.exists(leftCopy)) {
            try (Stream<Path> files = Files.walk(leftCopy)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        String spec = TestGuest.named(TPM_VM).disk(tpmImage).external("san0", "fault").yaml();
        Path serial = lab.defineAndStart(Lab.A, TPM_VM, spec);
        Map<Integer, String> pcrs = TestGuest.awaitBooted(serial, true, 10).pcrs();

        lab.tool().holdAt("post-suspend");
        String id = onA.startMigration(request(TPM_VM, Lab.B));
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(90))).as("the migration reaches post-suspend").isTrue();
        runDisk.fill();
        lab.tool().release();
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);

        assertThat(done.report().result().wireName()).as("recovery failures: %s", done.report().recoveryFailures())
                .isEqualTo("rolled-back");
        assertThat(done.report().failure().message()).as("the refusal names the vTPM's state and the room")
                .contains("vTPM's state did not reach", "tpm2-00.permall", "bytes free");
        sourceRunsAndDestinationKeepsNothing(TPM_VM, id);
        guestRunsWithItsPcrs(onA, TPM_VM, pcrs);

        runDisk.unfill();
        for (String[] hop : new String[][] {{Lab.A, Lab.B}, {Lab.B, Lab.A}}) {
            Api from = lab.api(hop[0]);
            String again = from.startMigration(request(TPM_VM, hop[1]));
            MigrationStatus moved = from.awaitMigration(again, Duration.ofMinutes(3)).as(MigrationStatus.class);
            assertThat(moved.report().result().wireName()).as("%s to %s once there is room: %s", hop[0], hop[1],
                    moved.report().failure()).isEqualTo("completed");
            guestRunsWithItsPcrs(lab.api(hop[1]), TPM_VM, pcrs);
        }
        onA.removeIfPresent(TPM_VM);
    }

    private static MigrateRequest request() {
        return request(VM, Lab.B);
    }

    private static MigrateRequest request(String vm, String to) {
        return new MigrateRequest(vm, to, false, null, null, null, null, 30L);
    }

    /** The guest ticks on {@code host} and prints the PCRs it booted with: its TPM state came along whole. */
    private static void guestRunsWithItsPcrs(Api host, String vm, Map<Integer, String> pcrs) throws Exception {
        assertThat(host.vmState(vm)).isEqualTo("running");
        long wrote = GuestConsole.read(host.serialLog(vm)).lastWrote();
        // The guest prints its PCRs every 2 s; a serial log that began at the switchover shows them after the first.
        GuestConsole later = GuestConsole.await(host.serialLog(vm), c -> c.lastWrote() >= wrote + 5 && c.pcrs().size() == 8,
                BOOT);
        assertThat(later.lastWrote()).as("the guest goes on writing").isGreaterThanOrEqualTo(wrote + 5);
        assertThat(later.pcrs()).as("the PCRs the guest booted with").isEqualTo(pcrs);
    }

    /** The guest goes on writing on the source; the destination has no VM, process, run directory or copy, and ended the migration. */
    private void sourceRunsAndDestinationKeepsNothing(String id) throws Exception {
        sourceRunsAndDestinationKeepsNothing(VM, id);
    }

    private void sourceRunsAndDestinationKeepsNothing(String vm, String id) throws Exception {
        assertThat(onA.vmState(vm)).isEqualTo("running");
        long wrote = GuestConsole.read(onA.serialLog(vm)).lastWrote();
        GuestConsole later = GuestConsole.await(onA.serialLog(vm), c -> c.lastWrote() >= wrote + 10, BOOT);
        assertThat(later.lastWrote()).as("the guest goes on writing on the source").isGreaterThanOrEqualTo(wrote + 10);
        assertThat(onB.get("/v1/vms").body().path("vms")).as("no VM on the destination").isEmpty();
        assertThat(lab.processesIn(lab.agent(Lab.B).dataDir())).as("no process left on the destination").isEmpty();
        for (String sub : new String[] {"images", "run"}) {
            Path dir = lab.agent(Lab.B).dataDir().resolve(sub);
            if (Files.exists(dir)) {
                try (Stream<Path> left = Files.walk(dir)) {
                    assertThat(left.filter(p -> !p.equals(dir) && !p.equals(imagesDisk.filler())
                            && !p.equals(runDisk.filler())))
                            .as("nothing left in the destination's %s", sub).isEmpty();
                }
            }
        }
        JsonNode onDestination = onB.migration(id).body();
        if (!onDestination.path("error").isObject()) {
            assertThat(onDestination.path("running").asBoolean(true)).as("the destination ended it: %s", onDestination).isFalse();
            assertThat(onDestination.path("phase").asText()).isIn("rolled-back", "refused");
        }
    }
}
