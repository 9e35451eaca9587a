package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.LabAgent;
import dev.ferry.lab.LinkProxy;
import dev.ferry.lab.TestGuest;
import dev.ferry.proc.ProcessRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agents killed with SIGKILL in the middle of a migration and restarted: the journal decides, and
 * exactly one copy of the guest runs afterwards with its disk and TPM state intact. The agents are
 * real processes (the shaded jar) reaching each other through link proxies that can hold a
 * switchover's answer. The guest is booted once for the class; each test migrates it from wherever
 * it runs, and boots it again on host-a only when it runs nowhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RecoveryIT {
    private static final String VM = "crashvm";
    private static final Duration SETTLED = Duration.ofSeconds(90);

    private final ProcessRunner runner = new ProcessRunner();
    private Lab lab;
    private Path disk;
    private Map<Integer, String> pcrsAtBoot;
    private String bootId;
    private long lastAcknowledged;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        // Plain: its link hold reads the switchover request's path, which TLS hides.
        lab = Lab.in(root).plain().separateJvms().linkProxies().fakeTool("hold", Map.of("post-suspend", "5m")).start();
        disk = TestGuest.createDisk(root.resolve("data.qcow2"));
    }

    @BeforeEach
    void guestRunsSomewhere() throws Exception {
        lab.tool().reset();
        if (holder() != null) {
            return;
        }
        for (String host : lab.hosts()) {
            lab.api(host).removeIfPresent(VM);
        }
        String spec = TestGuest.named(VM).disk(disk).external("hold0", "hold").yaml();
        GuestConsole up = TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), true, 5);
        pcrsAtBoot = up.pcrs();
        bootId = up.bootId();
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void sourceKilledDuringPostSuspend_restartsAndRollsBack_theGuestRunsOnTheSourceOnly() throws Exception {
        LabAgent source = lab.agent(holder());
        LabAgent dest = lab.agent(lab.other(source.host()));
        lab.tool().holdAt("post-suspend");
        String id = startMigration(source, dest);
        awaitHoldReached();

        source.kill9();
        lab.tool().release();
        source.start();

        JsonNode m = source.api().awaitSettled(id, SETTLED).body();
        assertThat(m.path("phase").asText()).isEqualTo("rolled-back");
        assertExactlyOneCopyOn(source, dest);
    }

    @Test
    void sourceKilledAfterTheDestinationTookTheVm_restarts_andOnlyCleansUp() throws Exception {
        LabAgent source = lab.agent(holder());
        LabAgent dest = lab.agent(lab.other(source.host()));
        lab.linkTo(dest.host()).holdNext("/switchover ", LinkProxy.Hold.RESPONSE);
        String id = startMigration(source, dest);
        // The destination does the switchover; its answer never reaches the source.
        GuestConsole onDest = GuestConsole.await(dest.api().serialLogOnceDefined(VM, Duration.ofSeconds(60)),
                c -> c.lastTick() > c.firstTick() + 10, Duration.ofSeconds(60));
        assertThat(onDest.lastTick()).isGreaterThan(onDest.firstTick() + 10);

        source.kill9();
        lab.linkTo(dest.host()).release();
        source.start();

        JsonNode m = source.api().awaitSettled(id, SETTLED).body();
        assertThat(m.path("phase").asText()).isEqualTo("completed");
        assertExactlyOneCopyOn(dest, source);
    }

    @Test
    void bothKilledDuringPostSuspend_restartedDestinationFirst_exactlyOneCopy() throws Exception {
        bothKilled(true);
    }

    @Test
    void bothKilledDuringPostSuspend_restartedSourceFirst_exactlyOneCopy_diskAndTpmIntact() throws Exception {
        bothKilled(false);
        LabAgent owner = lab.agent(holder());
        lastAcknowledged = Math.max(lastAcknowledged, GuestConsole.read(owner.api().serialLog(VM)).lastWrote());
        owner.api().post("/v1/vms/" + VM + "/destroy", null);
        DiskReport report = DiskVerifier.verify(disk, runner);
        assertThat(report.clean()).as("%s", report).isTrue();
        assertThat(report.highestContiguous()).isGreaterThanOrEqualTo(lastAcknowledged);
    }

    /** Migrates the guest from where it runs with both agents killed while post-suspend holds. */
    private void bothKilled(boolean destinationFirst) throws Exception {
        LabAgent source = lab.agent(holder());
        LabAgent dest = lab.agent(lab.other(source.host()));
        lab.tool().holdAt("post-suspend");
        String id = startMigration(source, dest);
        awaitHoldReached();

        source.kill9();
        dest.kill9();
        lab.tool().release();
        if (destinationFirst) {
            dest.start();
            source.start();
        } else {
            source.start();
            dest.start();
        }

        JsonNode m = source.api().awaitSettled(id, SETTLED).body();
        assertThat(m.path("phase").asText()).isEqualTo("rolled-back");
        assertExactlyOneCopyOn(source, dest);
    }

    /** Exactly one running copy, on {@code owner}: ticking, PCRs as at boot; nothing of it on {@code other}. */
    private void assertExactlyOneCopyOn(LabAgent owner, LabAgent other) throws Exception {
        Api onOwner = owner.api();
        assertThat(onOwner.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        assertThat(other.api().get("/v1/vms/" + VM).status()).as("the other host does not have the VM").isEqualTo(404);
        assertThat(lab.processesIn(other.runRoot())).as("no QEMU on the other host").isEmpty();
        Path log = onOwner.serialLog(VM);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 10 && c.pcrs().size() == 8,
                Duration.ofSeconds(30));
        assertThat(later.lastTick()).as("the guest ticks").isGreaterThanOrEqualTo(tick + 10);
        assertThat(later.pcrs()).as("TPM state intact").isEqualTo(pcrsAtBoot);
        assertThat(later.lines().stream().filter(l -> l.startsWith("boot ")))
                .as("not rebooted: no boot line but the first boot's").allMatch(l -> l.equals("boot " + bootId));
        lastAcknowledged = Math.max(lastAcknowledged, later.lastWrote());
    }

    /** The host whose agent runs the guest, or null when none does. */
    private String holder() {
        return lab.hosts().stream().filter(h -> lab.api(h).vmState(VM).equals("running")).findFirst().orElse(null);
    }

    private String startMigration(LabAgent from, LabAgent to) throws Exception {
        return from.api().startMigration(new MigrateRequest(VM, to.host(), false, null, null, null, null, 60L));
    }

    private void awaitHoldReached() {
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(90))).as("the migration got to post-suspend").isTrue();
    }
}
