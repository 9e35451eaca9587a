package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.LabAgent;
import dev.ferry.lab.LinkProxy;
import dev.ferry.lab.TestGuest;
import dev.ferry.proc.Processes;
import dev.ferry.vm.RunDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hung parties, by SIGSTOP: the destination's incoming QEMU, the destination's agent, the
 * source's swtpm. Each test puts the migration in its phase with one of the lab's holds, stops the
 * process, lets the migration go on, and checks that it ends with a message naming who stalled
 * (well before the 5-minute converge timeout), that the guest runs on the source only, and that
 * nothing of the migration stays on the destination. Everything stopped is continued afterwards.
 * The migrations run with a 5 s stall timeout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StallIT {
    private static final String VM = "stallvm";
    private static final long STALL_SECONDS = 5;
    /** Far below the 300 s converge timeout these migrations keep: a stall must not wait for it. */
    private static final Duration ENDS = Duration.ofSeconds(150);

    private Lab lab;
    private Path disk;
    private Map<Integer, String> pcrsAtBoot;
    private final List<Long> stopped = new ArrayList<>();

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        // Plain: its link holds read the peer requests' paths, which TLS hides.
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
        pcrsAtBoot = TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), true, 5).pcrs();
    }

    @AfterEach
    void continueWhatWasStopped() throws Exception {
        for (long pid : stopped) {
            lab.resume(pid);
        }
        stopped.clear();
        lab.tool().reset();
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void destinationQemuStoppedDuringTheRamCopy_failsAsStalledNamingIt_notAsNotConverged() throws Exception {
        LabAgent source = lab.agent(holder());
        LabAgent dest = lab.agent(lab.other(source.host()));
        lab.linkTo(dest.host()).holdNext("/prepare ", LinkProxy.Hold.RESPONSE);
        String id = startMigration(source, dest);
        assertThat(lab.linkTo(dest.host()).awaitHeld(Duration.ofSeconds(90))).as("prepare answered").isTrue();
        long incoming = onlyQemuOf(dest);
        stop(incoming);
        lab.linkTo(dest.host()).release();

        JsonNode report = ended(source, id);
        assertThat(report.path("result").asText()).isEqualTo("rolled-back");
        assertThat(report.path("failure").path("phase").asText()).isEqualTo("ram-copy");
        assertThat(report.path("failure").path("message").asText())
                .contains("the RAM copy made no progress for " + STALL_SECONDS + " s",
                        "the destination's incoming QEMU (pid " + incoming + " on '" + dest.host() + "')")
                .doesNotContain("converge");
        assertRunsOnlyOn(source, dest);
    }

    @Test
    void destinationQemuStoppedAtSync_failsNamingIt_notAsGone() throws Exception {
        LabAgent source = lab.agent(holder());
        LabAgent dest = lab.agent(lab.other(source.host()));
        lab.tool().holdAt("sync");
        String id = startMigration(source, dest);
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(90))).as("the migration got to sync").isTrue();
        long incoming = onlyQemuOf(dest);
        stop(incoming);
        lab.tool().release();

        JsonNode report = ended(source, id);
        // Three ways this goes, all naming the stopped QEMU by pid: the source sees its final copy stuck;
        // or it pushed it all into the socket and the destination finds its QEMU silent at switchover; or
        // the source's QEMU itself falls silent, blocked on the stream with its big lock held, and cannot
        // cancel its migration until the destination's abort kills the stopped QEMU: then the cancel is
        // asked again after the abort. Every way rolls back cleanly, with the guest running on the source.
        assertThat(report.path("result").asText()).as("%s", report).isEqualTo("rolled-back");
        assertThat(report.path("failure").path("message").asText()).contains("pid " + incoming)
                .containsAnyOf("made no progress", "it is stopped (SIGSTOP)", "is not taking the stream")
                .doesNotContain("is gone");
        assertRunsOnlyOn(source, dest);
    }

    @Test
    void destinationAgentStoppedAtCheck_refusedNamingTheAgent() throws Exception {
        LabAgent source = lab.agent(holder());
        LabAgent dest = lab.agent(lab.other(source.host()));
        lab.tool().holdAt("check");
        String id = startMigration(source, dest);
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(90))).as("the migration got to check").isTrue();
        stop(dest.pidOrZero());
        lab.tool().release();

        JsonNode report = ended(source, id);
        assertThat(report.path("result").asText()).isEqualTo("refused");
        assertThat(report.path("blockers").toString())
                .contains("agent '" + dest.host() + "'", "did not answer check within " + STALL_SECONDS + " s");
        continueAll();
        assertRunsOnlyOn(source, dest);
    }

    @Test
    void destinationAgentStoppedInsidePrepare_sourceResumes_destinationCleansUpOnceContinued() throws Exception {
        LabAgent source = lab.agent(holder());
        LabAgent dest = lab.agent(lab.other(source.host()));
        lab.linkTo(dest.host()).holdNext("/prepare ", LinkProxy.Hold.REQUEST);
        String id = startMigration(source, dest);
        assertThat(lab.linkTo(dest.host()).awaitHeld(Duration.ofSeconds(90))).as("prepare sent").isTrue();
        stop(dest.pidOrZero());
        lab.linkTo(dest.host()).release();

        JsonNode report = ended(source, id);
        assertThat(report.path("result").asText()).as("%s", report).isIn("rolled-back", "failed");
        assertThat(report.path("failure").path("message").asText())
                .contains("agent '" + dest.host() + "'", "did not answer prepare within " + 6 * STALL_SECONDS + " s");
        // The guest runs on; until the stopped destination confirms the abort the source records the VM as
        // migrating (docs/migration.md, "Rollback"): nothing may start it elsewhere while that is unsettled.
        assertThat(source.api().vmState(VM)).isIn("running", "migrating");
        continueAll();
        // Continued, the destination finishes the prepare it was in and then the source's abort.
        await("the destination tears down what the stalled prepare made").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500)).until(() -> lab.processesIn(dest.runRoot()).isEmpty()
                        && settledOrUnknown(dest, id));
        await("the source settles once the destination confirms the abort").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500)).until(() -> source.api().vmState(VM).equals("running"));
        assertRunsOnlyOn(source, dest);
    }

    @Test
    void sourceSwtpmStoppedAtSync_failsNamingTheSwtpm() throws Exception {
        LabAgent source = lab.agent(holder());
        LabAgent dest = lab.agent(lab.other(source.host()));
        lab.tool().holdAt("sync");
        String id = startMigration(source, dest);
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(90))).as("the migration got to sync").isTrue();
        long swtpm = Long.parseLong(Files.readString(RunDir.of(source.runRoot(), VM).swtpmPidFile()).trim());
        stop(swtpm);
        lab.tool().release();

        JsonNode report = ended(source, id);
        assertThat(report.path("result").asText()).as("%s", report).isNotEqualTo("completed");
        assertThat(report.path("failure").path("message").asText())
                .contains("the source's QEMU", "waits on its swtpm (pid " + swtpm + "), which is stopped");
        assertThat(source.api().vmState(VM)).as("a QEMU that does not answer is not running, and not gone")
                .isEqualTo("paused");
        continueAll();
        // Continued, the swtpm lets QEMU finish; its migration fails (the destination is gone) and the
        // guest can run again: the operator resumes it, as the agent's log says.
        await("the source's guest resumes once its swtpm is continued").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .until(() -> source.api().post("/v1/vms/" + VM + "/resume", null).status() == 200);
        assertRunsOnlyOn(source, dest);
    }

    private JsonNode ended(LabAgent source, String id) {
        return source.api().awaitSettled(id, ENDS).body().path("report");
    }

    private boolean settledOrUnknown(LabAgent dest, String id) throws Exception {
        Api.Reply m = dest.api().migration(id);
        return m.status() == 404 || !m.body().path("running").asBoolean(true);
    }

    private void stop(long pid) throws Exception {
        assertThat(pid).isPositive();
        stopped.add(pid);
        lab.freeze(pid);
    }

    private void continueAll() throws Exception {
        for (long pid : stopped) {
            lab.resume(pid);
        }
        stopped.clear();
    }

    private long onlyQemuOf(LabAgent agent) {
        List<Long> qemus = lab.qemusOf(agent.host());
        assertThat(qemus).as("one incoming QEMU on %s", agent.host()).hasSize(1);
        return qemus.get(0);
    }

    /** The guest runs on {@code owner} and ticks there with its PCRs; {@code other} has nothing of it. */
    private void assertRunsOnlyOn(LabAgent owner, LabAgent other) throws Exception {
        assertThat(owner.api().vmState(VM)).isEqualTo("running");
        await("nothing of the migration on " + other.host()).atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500)).until(() -> lab.processesIn(other.runRoot()).isEmpty());
        assertThat(other.api().get("/v1/vms/" + VM).status()).isEqualTo(404);
        assertThat(Processes.isAlive(owner.api().qemuPid(VM))).isTrue();
        Path log = owner.api().serialLog(VM);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 5 && c.pcrs().size() == 8,
                Duration.ofSeconds(30));
        assertThat(later.lastTick()).as("the guest ticks on %s (%s, %d bytes, ends: %s)", owner.host(), log,
                Files.size(log), later.lines().subList(Math.max(0, later.lines().size() - 5), later.lines().size()))
                .isGreaterThanOrEqualTo(tick + 5);
        assertThat(later.pcrs()).as("TPM state intact").isEqualTo(pcrsAtBoot);
    }

    private String holder() {
        return lab.hosts().stream().filter(h -> lab.api(h).vmState(VM).equals("running")).findFirst().orElse(null);
    }

    private String startMigration(LabAgent from, LabAgent to) throws Exception {
        return from.api().startMigration(new MigrateRequest(VM, to.host(), false, null, null, null, null, 60L, null,
                STALL_SECONDS));
    }
}
