package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.LabAgent;
import dev.ferry.lab.LinkProxy;
import dev.ferry.lab.TestGuest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The counterexample the SPIN model ({@code model/ferry.pml}, docs/model.md) found, on real agents:
 * the source is killed after sending the switchover request, which is still on its way. The
 * restarted source asks the destination who owns the VM and hears "prepared"; while it rolls back
 * (held in its device's recover step), the late switchover arrives and the destination takes the VM
 * and resumes it. The destination then refuses the source's abort, and the source must not resume
 * its copy: it keeps asking, hears "owned", and cleans up. Before the fix it resumed: two copies.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LateSwitchoverIT {
    private static final String VM = "latevm";
    private static final Duration SETTLED = Duration.ofSeconds(120);
    private static final Duration POLL = Duration.ofMillis(250);

    private Lab lab;
    private Path disk;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        // Plain: its link hold reads the switchover request's path, which TLS hides.
        lab = Lab.in(root).plain().separateJvms().linkProxies().fakeTool("hold", Map.of("recover", "5m")).start();
        disk = TestGuest.createDisk(root.resolve("data.qcow2"));
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void switchoverArrivingAfterTheRestartedSourceHeardPrepared_theSourceNeverResumes_theGuestRunsOnlyThere()
            throws Exception {
        LabAgent source = lab.agent(Lab.A);
        LabAgent dest = lab.agent(Lab.B);
        String spec = TestGuest.named(VM).disk(disk).external("hold0", "hold").yaml();
        TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), true, 5);
        LinkProxy link = lab.linkTo(dest.host());
        link.holdNext("/switchover ", LinkProxy.Hold.REQUEST);
        String id = source.api()
                .startMigration(new MigrateRequest(VM, dest.host(), false, null, null, null, null, 60L));
        assertThat(link.awaitHeld(Duration.ofSeconds(120))).as("the switchover request left the source").isTrue();

        lab.tool().holdAt("recover");
        source.kill9();
        // The agent settles its migrations before it listens, so it is started aside while its recovery holds.
        ExecutorService aside = Executors.newSingleThreadExecutor();
        try {
            Future<Void> restarted = aside.submit(() -> {
                source.start();
                return null;
            });
            // The restarted source heard "prepared" and is rolling back: its device's recover step holds.
            assertThat(lab.tool().awaitHeld(Duration.ofSeconds(90))).as("the restarted source rolls back").isTrue();
            link.release();
            GuestConsole onDest = GuestConsole.await(dest.api().serialLogOnceDefined(VM, Duration.ofSeconds(60)),
                    c -> c.lastTick() > c.firstTick() + 5, Duration.ofSeconds(60));
            assertThat(onDest.lastTick()).as("the late switchover resumed the guest on the destination")
                    .isGreaterThan(onDest.firstTick() + 5);
            lab.tool().release();
            await("the source agent listens again").atMost(Duration.ofSeconds(90)).until(restarted::isDone);
            restarted.get();
        } finally {
            aside.shutdownNow();
        }

        // Until the destination's refusal of the abort is followed by its "owned", the report says failed.
        Api.Reply m = await("the source settles, or resumes its copy").atMost(SETTLED).pollInterval(POLL)
                .ignoreExceptions().until(() -> source.api().migration(id),
                        r -> r.text("phase").equals("completed") || source.api().vmState(VM).equals("running"));
        assertThat(source.api().vmState(VM)).as("the source never resumes its copy").isNotEqualTo("running");
        assertThat(m.text("phase")).as("the source settles once the destination says it owns the VM")
                .isEqualTo("completed");
        assertThat(dest.api().vmState(VM)).isEqualTo("running");
        assertThat(source.api().get("/v1/vms/" + VM).status()).as("the source forgot the VM").isEqualTo(404);
        assertThat(lab.qemusOf(source.host())).as("no QEMU left on the source").isEmpty();
        Path log = dest.api().serialLog(VM);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 5, Duration.ofSeconds(30));
        assertThat(later.lastTick()).as("the guest ticks on the destination").isGreaterThanOrEqualTo(tick + 5);
    }
}
