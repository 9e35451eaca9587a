package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.device.DeviceRef;
import dev.ferry.device.Mode;
import dev.ferry.device.Step;
import dev.ferry.lab.FakeClock;
import dev.ferry.migration.Fakes.Device;
import dev.ferry.migration.Fakes.Log;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeviceStepsTest {
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final FakeClock clock = new FakeClock();
    private final Log log = new Log();
    private final Device d0 = new Device("d0", log);
    private final Device d1 = new Device("d1", log);
    private final Device d2 = new Device("d2", log);
    private final MemoryStore store = new MemoryStore();
    private final MigrationPlan plan = new MigrationPlan("m1", "web1", "uuid-1", "src", Mode.LIVE, "dst",
            List.of(unit(d0), unit(d1), unit(d2)), MigrationParams.defaults());
    private final Recorder rec = new Recorder(plan, clock,
            new Journal(store, "m1", "web1", Role.SOURCE, "dst", clock), MigrationListener.NONE);
    private final DeviceSteps steps = new DeviceSteps(plan, rec, executor, () -> false);

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    private static MigrationPlan.Unit unit(Device d) {
        return new MigrationPlan.Unit(new DeviceRef(d.id, "external", ""), d);
    }

    private List<String> deviceJournal() {
        return store.journal("m1").stream().filter(e -> e.device() != null)
                .map(e -> e.device() + " " + e.step().wireName() + " " + e.event().wireName()).toList();
    }

    @Test
    void checkAll_withTwoRefusals_returnsBothAndStartsNothing() throws Exception {
        d0.refusing("passthrough cannot migrate");
        d2.refusing("no tool for tpm");

        var blockers = steps.checkAll(Duration.ofSeconds(5));

        assertThat(blockers).extracting(MigrationReport.Blocker::describe).containsExactly(
                "source: device 'd0' (external) refuses migration: passthrough cannot migrate",
                "source: device 'd2' (external) refuses migration: no tool for tpm");
        steps.recover();
        assertThat(log.matching("recover")).isEmpty();
    }

    @Test
    void preSuspendAll_whenTheSecondDeviceFails_stopsThere_andRecoveryUndoesOnlyTheStartedOnesNewestFirst()
            throws Exception {
        rec.enterCheck(true);
        d1.failingAt(Step.PRE_SUSPEND);

        assertThatThrownBy(() -> steps.preSuspendAll(Duration.ofSeconds(5)))
                .isInstanceOf(DeviceSteps.StepFailure.class)
                .hasMessage("pre-suspend: device 'd1' (external) failed at pre-suspend: d1 broke at pre-suspend");
        steps.recover();

        assertThat(log.lines).doesNotContain("pre-suspend d2");
        assertThat(log.matching("recover")).containsExactly("recover d1 check", "recover d0 pre-suspend");
        assertThat(deviceJournal()).containsExactly("d0 pre-suspend start", "d0 pre-suspend ok",
                "d1 pre-suspend start", "d1 pre-suspend failed", "d1 recover start", "d1 recover ok",
                "d0 recover start", "d0 recover ok");
    }

    @Test
    void concurrently_whenOneDeviceFails_waitsForAll_journalsEach_andRecoversWithEachLastGoodStep() throws Exception {
        rec.enterCheck(true);
        steps.preSuspendAll(Duration.ofSeconds(5));
        d1.failingAt(Step.POST_SUSPEND);

        assertThatThrownBy(() -> steps.runStep(Step.POST_SUSPEND, Duration.ofSeconds(5)))
                .isInstanceOf(DeviceSteps.StepFailure.class).hasMessageContaining("d1 broke at post-suspend");
        steps.recover();

        assertThat(log.lines).contains("post-suspend d0", "post-suspend d1", "post-suspend d2");
        assertThat(log.matching("recover")).containsExactly(
                "recover d2 post-suspend", "recover d1 pre-suspend", "recover d0 post-suspend");
        assertThat(deviceJournal()).contains("d0 post-suspend ok", "d1 post-suspend failed", "d2 post-suspend ok");
    }

    @Test
    void startedBefore_fromAJournal_recoversExactlyThoseDevicesNewestFirstWithTheirLastGoodStep() {
        Map<String, Step> fromJournal = new LinkedHashMap<>();
        fromJournal.put("d2", Step.POST_SUSPEND);
        fromJournal.put("d0", Step.CHECK);

        steps.startedBefore(fromJournal);
        steps.recover();

        assertThat(log.matching("recover")).containsExactly("recover d0 check", "recover d2 post-suspend");
    }

    @Test
    void recover_whenOneRecoveryFails_recordsItAndStillRecoversTheOthers() {
        rec.enterCheck(true);
        Map<String, Step> started = new LinkedHashMap<>();
        started.put("d0", Step.PRE_SUSPEND);
        started.put("d1", Step.PRE_SUSPEND);
        steps.startedBefore(started);
        d1.recoverFailure = "state file is gone";

        steps.recover();

        assertThat(log.matching("recover")).containsExactly("recover d1 pre-suspend", "recover d0 pre-suspend");
        assertThat(rec.recoveryClean()).isFalse();
        MigrationReport report = rec.finish(Result.FAILED, List.of(), null);
        assertThat(report.recoveryFailures()).singleElement().satisfies(f -> {
            assertThat(f.device()).isEqualTo("device 'd1' (external)");
            assertThat(f.step()).isEqualTo("recover");
            assertThat(f.message()).isEqualTo("state file is gone");
        });
    }
}
