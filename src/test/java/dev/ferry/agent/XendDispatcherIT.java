package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.agent.api.RestoreRequest;
import dev.ferry.agent.api.SaveRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.lab.XendDispatcher;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real agents move the real test guest with three external devices, of the classes
 * {@code vtpm}, {@code fpga} and {@code hsm}, each moved by the same xen-dialect tool: a dispatcher
 * built as Xen's {@code external-device-migrate} is, with a companion script per class that logs
 * every call. Every call is checked against xend's sequence, which {@link #xendCalls} states from
 * xend's rules, independently of the code under test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class XendDispatcherIT {
    private static final String VM = "xendvm";
    private static final List<String> CLASSES = List.of("vtpm", "fpga", "hsm");
    private static final Duration MOVE = Duration.ofMinutes(3);

    private Lab lab;
    private XendDispatcher xend;
    private Api onA;
    private Api onB;
    private Path disk;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        xend = XendDispatcher.install(root.resolve("xend"), CLASSES);
        lab = Lab.in(root).tool("external", xend.path(), Map.of()).dialect("external", "xen").start();
        onA = lab.api(Lab.A);
        onB = lab.api(Lab.B);
        disk = TestGuest.createDisk(root.resolve("data.qcow2"));
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    /**
     * The calls xend made for {@link #CLASSES}, in order: step 0 for every class but vtpm, and only
     * when live; then steps 1 to 3, each one device at a time; at the first failure (at step
     * {@code failStep} of {@code failing}) every device recovers in spec order, those before the
     * failing one with that step, the failing one and those after it with the step before.
     */
    private static List<String> xendCalls(String host, boolean live, int failStep, String failing) {
        List<String> calls = new ArrayList<>();
        if (live) {
            CLASSES.stream().filter(c -> !c.equals("vtpm")).forEach(c -> calls.add(call(c, "step", 0, host)));
        }
        for (int step = 1; step <= 3; step++) {
            for (int i = 0; i < CLASSES.size(); i++) {
                calls.add(call(CLASSES.get(i), "step", step, host));
                if (step == failStep && CLASSES.get(i).equals(failing)) {
                    for (int j = 0; j < CLASSES.size(); j++) {
                        calls.add(call(CLASSES.get(j), "recover", j < i ? step : step - 1, host));
                    }
                    return calls;
                }
            }
        }
        return calls;
    }

    private static String call(String cls, String what, int step, String host) {
        return cls + " " + what + " " + step + " host " + host + " dom " + VM;
    }

    @Test
    void liveMigration_completes_andEveryToolCallFollowsXendsSequence() throws Exception {
        guestRunsOnA();

        MigrationReport report = migrateToB();

        assertThat(report.failure()).isNull();
        assertThat(report.result().wireName()).isEqualTo("completed");
        assertThat(xend.calls()).containsExactlyElementsOf(xendCalls(Lab.B, true, 0, null));
        GuestConsole dest = GuestConsole.await(onB.serialLog(VM), c -> c.lastTick() > c.firstTick() + 5, Duration.ofSeconds(30));
        assertThat(dest.bootId()).as("the guest moved, it did not reboot").isNull();
        assertThat(dest.lastTick()).as("the guest ticks on the destination").isGreaterThan(dest.firstTick() + 5);
    }

    @Test
    void save_callsNoToolAtStep0_andSteps1To3WithTheFileAsHost_thenTheGuestRestores() throws Exception {
        guestRunsOnA();
        Path file = lab.root().resolve("xendvm.save");
        Files.deleteIfExists(file);

        Api.Reply saved = onA.post("/v1/vms/" + VM + "/save", new SaveRequest(file.toString()));
        MigrationStatus status = onA.awaitMigration(saved.as(MigrationStatus.class).id(), MOVE).as(MigrationStatus.class);

        assertThat(status.report().failure()).isNull();
        assertThat(status.report().result().wireName()).isEqualTo("completed");
        assertThat(xend.calls()).containsExactlyElementsOf(xendCalls(file.toString(), false, 0, null));
        Api.Reply restored = onA.post("/v1/restore", new RestoreRequest(file.toString()));
        assertThat(restored.status()).isEqualTo(200);
        assertThat(restored.body().path("state").asText()).isEqualTo("running");
        Files.deleteIfExists(file);
    }

    @Test
    void failureAtStep1_ofTheMiddleDevice_stopsThere_andRecoversAllInSpecOrder() throws Exception {
        failedMigrationFollowsXend(1, "fpga", "fpga gave up at step 1");
    }

    @Test
    void failureAtStep2_ofTheLastDevice_stopsThere_andRecoversAllInSpecOrder() throws Exception {
        failedMigrationFollowsXend(2, "hsm", "hsm gave up at step 2");
    }

    @Test
    void failureAtStep3_ofTheVtpm_readFromItsErrorLine_stopsThere_andRecoversAllInSpecOrder() throws Exception {
        failedMigrationFollowsXend(3, "vtpm", "Error: injected failure of vtpm at step 3");
    }

    @Test
    void aSavePathWithASpace_isRefusedAtCheck_noToolRuns_andTheGuestRunsOn() throws Exception {
        guestRunsOnA();
        Path dir = Files.createDirectories(lab.root().resolve("my saves"));

        Api.Reply saved = onA.post("/v1/vms/" + VM + "/save", new SaveRequest(dir.resolve("x.save").toString()));
        MigrationStatus status = onA.awaitMigration(saved.as(MigrationStatus.class).id(), MOVE).as(MigrationStatus.class);

        assertThat(status.report().result().wireName()).isEqualTo("refused");
        assertThat(status.report().blockers()).isNotEmpty().allSatisfy(b -> assertThat(b.reason())
                .contains("the save path '" + dir.resolve("x.save") + "' contains a space")
                .contains("passes its arguments through eval"));
        assertThat(xend.calls()).isEmpty();
        assertThat(dir.resolve("x.save")).doesNotExist();
        assertGuestRunsOnA();
    }

    private void failedMigrationFollowsXend(int step, String cls, String toolSaid) throws Exception {
        guestRunsOnA();
        xend.failAt(cls, step);

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).isEqualTo("rolled-back");
        assertThat(report.failure().device()).isEqualTo("device '" + cls + "0' (external, " + cls + ")");
        assertThat(report.failure().step()).isEqualTo(List.of("check", "pre-suspend", "post-suspend", "sync").get(step));
        assertThat(report.failure().message()).contains(toolSaid);
        assertThat(report.recoveryFailures()).isEmpty();
        assertThat(xend.calls()).containsExactlyElementsOf(xendCalls(Lab.B, true, step, cls));
        assertGuestRunsOnA();
        assertDestinationClean();
    }

    /** The guest running on A, moved back or booted there as needed; the dispatcher's log then starts empty. */
    private void guestRunsOnA() throws Exception {
        xend.reset();
        if (!onA.vmState(VM).equals("running")) {
            if (onB.vmState(VM).equals("running")) {
                String id = onB.startMigration(new MigrateRequest(VM, Lab.A, false, null, null, null, null, 20L));
                MigrationStatus moved = onB.awaitMigration(id, MOVE).as(MigrationStatus.class);
                assertThat(moved.report().result().wireName()).as("moving the guest back: %s", moved.report())
                        .isEqualTo("completed");
            } else {
                onA.removeIfPresent(VM);
                onB.removeIfPresent(VM);
                String spec = TestGuest.named(VM).disk(disk).withoutTpm()
                        .external("vtpm0", "vtpm").external("fpga0", "fpga").external("hsm0", "hsm").yaml();
                TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), false, 3);
            }
        }
        xend.reset();
    }

    private MigrationReport migrateToB() throws Exception {
        String id = onA.startMigration(new MigrateRequest(VM, Lab.B, false, null, null, null, null, 20L));
        MigrationStatus done = onA.awaitMigration(id, MOVE).as(MigrationStatus.class);
        assertThat(done.running()).isFalse();
        return done.report();
    }

    private void assertGuestRunsOnA() throws Exception {
        assertThat(onA.vmState(VM)).isEqualTo("running");
        Path log = onA.serialLog(VM);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 5, Duration.ofSeconds(30));
        assertThat(later.lastTick()).as("the guest ticks on the source").isGreaterThanOrEqualTo(tick + 5);
    }

    private void assertDestinationClean() throws Exception {
        assertThat(onB.get("/v1/vms").body().path("vms")).isEmpty();
        Path run = lab.agent(Lab.B).runRoot();
        if (Files.exists(run)) {
            try (Stream<Path> left = Files.list(run)) {
                assertThat(left).as("nothing left in the destination's run directory").isEmpty();
            }
        }
        assertThat(lab.processesIn(run)).as("no process of the destination's").isEmpty();
    }
}
