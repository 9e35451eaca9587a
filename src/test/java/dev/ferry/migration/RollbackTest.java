package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.device.DeviceRef;
import dev.ferry.device.Mode;
import dev.ferry.device.Step;
import dev.ferry.lab.FakeClock;
import dev.ferry.migration.Fakes.Dest;
import dev.ferry.migration.Fakes.Device;
import dev.ferry.migration.Fakes.Log;
import dev.ferry.migration.Fakes.Source;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RollbackTest {
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final FakeClock clock = new FakeClock();
    private final Log log = new Log();
    private final Source source = new Source(log);
    private final Dest dest = new Dest(log);
    private final Device d0 = new Device("d0", log);
    private final Device d1 = new Device("d1", log);
    private final Device d2 = new Device("d2", log);
    private final MemoryStore store = new MemoryStore();
    private final MigrationPlan plan = new MigrationPlan("m1", "web1", "uuid-1", "src", Mode.LIVE, "dst",
            List.of(unit(d0), unit(d1), unit(d2)), MigrationParams.defaults());
    private final Recorder rec = new Recorder(plan, clock,
            new Journal(store, "m1", "web1", Role.SOURCE, "dst", clock), MigrationListener.NONE);
    private final DeviceSteps devices = new DeviceSteps(plan, rec, executor, () -> false);

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    private static MigrationPlan.Unit unit(Device d) {
        return new MigrationPlan.Unit(new DeviceRef(d.id, "external", ""), d);
    }

    /** d0 and d2 started, in that order; d1 never did. */
    private void startedD0ThenD2() {
        Map<String, Step> started = new LinkedHashMap<>();
        started.put("d0", Step.SYNC);
        started.put("d2", Step.PRE_SUSPEND);
        devices.startedBefore(started);
    }

    private void at(Phase... phases) {
        rec.enterCheck(true);
        for (Phase p : phases) {
            rec.enter(p);
        }
    }

    @Test
    void run_afterQemuStarted_cancelsRecoversNewestFirstResumesThenTearsDownTheDestination() {
        at(Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY);
        startedD0ThenD2();

        Result result = Rollback.run(rec, devices, source, dest, new Rollback.Touched(true, true, true, false), "ram copy failed").result();

        assertThat(result).isEqualTo(Result.ROLLED_BACK);
        // The destination never held the guest: its teardown runs after the guest runs again here.
        assertThat(log.lines).containsExactly("qemu cancel", "recover d2 pre-suspend", "recover d0 sync", "source resume",
                "dest abort");
        assertThat(store.phases("m1")).endsWith(Phase.RAM_COPY, Phase.ROLLING_BACK);
        assertThat(store.journal("m1")).filteredOn(e -> e.phase() == Phase.ROLLING_BACK && e.event() == JournalEvent.ENTER)
                .singleElement().satisfies(e -> assertThat(e.detail()).isEqualTo("ram copy failed"));
    }

    @Test
    void run_ofAPausedGuestThatTouchedNothing_recoversOnlyDevicesAndLeavesTheGuestPaused() {
        at();
        startedD0ThenD2();

        Result result = Rollback.run(rec, devices, source, dest, new Rollback.Touched(false, false, false, false), "cancelled").result();

        assertThat(result).isEqualTo(Result.ROLLED_BACK);
        assertThat(log.lines).containsExactly("recover d2 pre-suspend", "recover d0 sync");
        MigrationReport report = rec.finish(result, List.of(), null);
        assertThat(report.notes()).contains("the guest was paused before the migration and stays paused");
    }

    @Test
    void run_whenCancelAbortAndResumeFail_stillRunsEveryStep_andEndsFailedListingEach() {
        at(Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY);
        startedD0ThenD2();
        source.failCancel = true;
        source.failResume = true;
        dest.failAbort = true;
        d2.recoverFailure = "tool exited 1";

        Result result = Rollback.run(rec, devices, source, dest, new Rollback.Touched(true, true, true, false), "ram copy failed").result();

        assertThat(result).isEqualTo(Result.FAILED);
        assertThat(log.lines).containsExactly("qemu cancel", "recover d2 pre-suspend", "recover d0 sync", "dest abort",
                "qemu cancel", "source resume");
        MigrationReport report = rec.finish(result, List.of(), null);
        assertThat(report.recoveryFailures()).extracting(MigrationReport.Failure::step)
                .containsExactly("recover", "abort", "cancel", "resume");
        assertThat(report.recoveryFailures()).extracting(MigrationReport.Failure::message).anySatisfy(
                m -> assertThat(m).isEqualTo("tearing down the destination failed: cannot reach agent 'dst': connection refused"));
    }

    @Test
    void run_whenQemuAnswersTheCancelOnlyOnceTheDestinationIsTornDown_cancelsAgainThenResumes_andRollsBack() {
        at(Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY, Phase.POST_SUSPEND, Phase.SYNC);
        startedD0ThenD2();
        source.running = false;
        source.cancelsUnanswered = 1;

        Result result = Rollback.run(rec, devices, source, dest, new Rollback.Touched(true, true, true, false),
                "the destination's QEMU stopped taking the stream").result();

        assertThat(result).isEqualTo(Result.ROLLED_BACK);
        assertThat(log.lines).containsExactly("qemu cancel", "recover d2 pre-suspend", "recover d0 sync", "dest abort",
                "qemu cancel", "source resume");
        MigrationReport report = rec.finish(result, List.of(), null);
        assertThat(report.recoveryFailures()).isEmpty();
        assertThat(report.notes()).anySatisfy(n -> assertThat(n).contains("cancelled once the destination was torn down",
                "did not answer 'query-migrate'"));
    }

    @Test
    void run_fromSwitchoverTheDestinationRefused_doesNotJournalRollingBack() {
        at(Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY, Phase.POST_SUSPEND, Phase.SYNC, Phase.SWITCHOVER);

        Result result = Rollback.run(rec, devices, source, dest, new Rollback.Touched(true, true, false, true), "not taken").result();

        assertThat(result).isEqualTo(Result.ROLLED_BACK);
        assertThat(store.phases("m1")).doesNotContain(Phase.ROLLING_BACK).endsWith(Phase.SWITCHOVER);
        assertThat(log.lines).containsExactly("dest abort", "source resume");
    }

    @Test
    void run_afterTheSwitchoverWasAsked_whenTheAbortIsRefused_leavesTheGuestPausedAndTheDestinationUnsettled() {
        at(Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY, Phase.POST_SUSPEND, Phase.SYNC, Phase.SWITCHOVER);
        dest.failAbort = true;

        Rollback.Outcome done = Rollback.run(rec, devices, source, dest, new Rollback.Touched(true, true, true, true),
                "restart");

        assertThat(done.destinationSettled()).isFalse();
        assertThat(log.lines).containsExactly("qemu cancel", "dest abort");
        MigrationReport report = rec.finish(done.result(), List.of(), null);
        assertThat(report.notes()).contains("the destination was asked to take the VM and did not confirm the abort;"
                + " the guest stays paused here until it answers");
    }

    @Test
    void run_beforeTheSwitchover_whenTheAbortFails_resumesTheGuestButLeavesTheDestinationUnsettled() {
        at(Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY);
        dest.failAbort = true;

        Rollback.Outcome done = Rollback.run(rec, devices, source, dest, new Rollback.Touched(true, true, true, false),
                "ram copy failed");

        assertThat(done.destinationSettled()).isFalse();
        assertThat(log.lines).containsExactly("qemu cancel", "source resume", "dest abort");
    }

    @Test
    void run_withoutADestination_skipsTheAbort() {
        at(Phase.PREPARE);

        Result result = Rollback.run(rec, devices, source, null, new Rollback.Touched(true, true, false, false), "restart").result();

        assertThat(result).isEqualTo(Result.ROLLED_BACK);
        assertThat(log.lines).containsExactly("source resume");
    }
}
