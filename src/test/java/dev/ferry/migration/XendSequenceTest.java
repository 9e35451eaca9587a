package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.device.DeviceRef;
import dev.ferry.device.Mode;
import dev.ferry.device.Step;
import dev.ferry.device.StepSequence;
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

/**
 * The step runner with devices that need xend's sequence: steps one device at a time, stop at the
 * first failure, recover every device in spec order with S before the failing one and S-1 from it
 * on, stop recovering where xend stopped. The vtpm class is a device of type tpm.
 */
class XendSequenceTest {
    private static final Duration DEADLINE = Duration.ofSeconds(5);

    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final FakeClock clock = new FakeClock();
    private final MemoryStore store = new MemoryStore();
    private final Log log = new Log();
    private final Device d0 = new Device("d0", log).needing(StepSequence.XEND);
    private final Device d1 = new Device("d1", log).needing(StepSequence.XEND);
    private final Device d2 = new Device("d2", log).needing(StepSequence.XEND);
    private Recorder rec;

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    private DeviceSteps steps(MigrationPlan.Unit... units) {
        MigrationPlan plan = new MigrationPlan("m1", "web1", "uuid-1", "src", Mode.LIVE, "dst", List.of(units),
                MigrationParams.defaults());
        rec = new Recorder(plan, clock, new Journal(store, "m1", "web1", Role.SOURCE, "dst", clock), MigrationListener.NONE);
        rec.enterCheck(true);
        return new DeviceSteps(plan, rec, executor, () -> false);
    }

    private static MigrationPlan.Unit unit(Device d) {
        return unit(d, "external");
    }

    private static MigrationPlan.Unit unit(Device d, String type) {
        return new MigrationPlan.Unit(new DeviceRef(d.id, type, ""), d);
    }

    private DeviceSteps threeXendDevices() {
        return steps(unit(d0), unit(d1), unit(d2));
    }

    private List<String> recoveryFailures() {
        return rec.finish(Result.FAILED, List.of(), null).recoveryFailures().stream()
                .map(f -> f.device() + ": " + f.message()).toList();
    }

    @Test
    void anyDeviceNeedingXend_makesTheMigrationXends_andFerryOnlyDevicesKeepFerrys() {
        Device ferry = new Device("f", log);

        assertThat(steps(unit(ferry), unit(d0)).sequence()).isEqualTo(StepSequence.XEND);
        assertThat(steps(unit(ferry)).sequence()).isEqualTo(StepSequence.FERRY);
    }

    @Test
    void checkAll_asksOneDeviceAtATime_andStopsAtTheFirstRefusal() throws Exception {
        DeviceSteps steps = threeXendDevices();
        d1.refusing("no room for the vTPM state");

        var blockers = steps.checkAll(DEADLINE);

        assertThat(blockers).extracting(MigrationReport.Blocker::describe)
                .containsExactly("source: device 'd1' (external) refuses migration: no room for the vTPM state");
        assertThat(log.lines).containsExactly("check d0", "check d1");
    }

    @Test
    void failureAtStep1_stopsThere_andRecoversEveryDeviceInSpecOrder_withStep1BeforeAndStep0FromTheFailingOne()
            throws Exception {
        DeviceSteps steps = threeXendDevices();
        steps.checkAll(DEADLINE);
        d1.failingAt(Step.PRE_SUSPEND);

        assertThatThrownBy(() -> steps.preSuspendAll(DEADLINE)).isInstanceOf(DeviceSteps.StepFailure.class);
        steps.recover();

        assertThat(log.lines).containsExactly("check d0", "check d1", "check d2", "pre-suspend d0", "pre-suspend d1",
                "recover d0 pre-suspend", "recover d1 check", "recover d2 check");
    }

    @Test
    void failureAtStep2_runsOneDeviceAtATime_stopsThere_andRecoversWithStep2BeforeAndStep1From() throws Exception {
        DeviceSteps steps = threeXendDevices();
        steps.checkAll(DEADLINE);
        steps.preSuspendAll(DEADLINE);
        d1.failingAt(Step.POST_SUSPEND);

        assertThatThrownBy(() -> steps.runStep(Step.POST_SUSPEND, DEADLINE))
                .isInstanceOf(DeviceSteps.StepFailure.class).hasMessageContaining("d1 broke at post-suspend");
        steps.recover();

        assertThat(log.lines).doesNotContain("post-suspend d2");
        assertThat(log.matching("recover")).containsExactly(
                "recover d0 post-suspend", "recover d1 pre-suspend", "recover d2 pre-suspend");
    }

    @Test
    void failureAtStep3_ofTheFirstDevice_recoversAllWithStep2() throws Exception {
        DeviceSteps steps = threeXendDevices();
        steps.checkAll(DEADLINE);
        steps.preSuspendAll(DEADLINE);
        steps.runStep(Step.POST_SUSPEND, DEADLINE);
        d0.failingAt(Step.SYNC);

        assertThatThrownBy(() -> steps.runStep(Step.SYNC, DEADLINE)).isInstanceOf(DeviceSteps.StepFailure.class);
        steps.recover();

        assertThat(log.matching("sync")).containsExactly("sync d0");
        assertThat(log.matching("recover")).containsExactly(
                "recover d0 post-suspend", "recover d1 post-suspend", "recover d2 post-suspend");
    }

    @Test
    void aFailureOutsideTheDeviceSteps_recoversEveryDeviceWithTheStepAllCompleted() throws Exception {
        DeviceSteps steps = threeXendDevices();
        steps.checkAll(DEADLINE);
        steps.preSuspendAll(DEADLINE);

        steps.recover(); // as after QEMU's RAM copy failed

        assertThat(log.matching("recover")).containsExactly(
                "recover d0 pre-suspend", "recover d1 pre-suspend", "recover d2 pre-suspend");
    }

    @Test
    void nothingStarted_nothingRecovered() throws Exception {
        DeviceSteps steps = threeXendDevices();
        steps.checkAll(DEADLINE);

        steps.recover(); // as after the destination failed to prepare

        assertThat(log.matching("recover")).isEmpty();
    }

    @Test
    void aFailedRecovery_stopsTheRest_andEachDeviceLeftIsReported() throws Exception {
        DeviceSteps steps = threeXendDevices();
        steps.checkAll(DEADLINE);
        d2.failingAt(Step.PRE_SUSPEND);
        assertThatThrownBy(() -> steps.preSuspendAll(DEADLINE)).isInstanceOf(DeviceSteps.StepFailure.class);
        d0.recoverFailure = "usb hub gone";

        steps.recover();

        assertThat(log.matching("recover")).containsExactly("recover d0 pre-suspend");
        assertThat(recoveryFailures()).containsExactly("device 'd0' (external): usb hub gone",
                "device 'd1' (external): not recovered: the recovery of device 'd0' (external) failed before it, and"
                        + " xend's sequence (the xen dialect's) stops there; recover it by hand or run the tool with -recover",
                "device 'd2' (external): not recovered: the recovery of device 'd0' (external) failed before it, and"
                        + " xend's sequence (the xen dialect's) stops there; recover it by hand or run the tool with -recover");
    }

    @Test
    void aFailedVtpmRecovery_isReported_butTheOthersStillRecover() throws Exception {
        DeviceSteps steps = steps(unit(d0, "tpm"), unit(d1), unit(d2));
        steps.checkAll(DEADLINE);
        d2.failingAt(Step.PRE_SUSPEND);
        assertThatThrownBy(() -> steps.preSuspendAll(DEADLINE)).isInstanceOf(DeviceSteps.StepFailure.class);
        d0.recoverFailure = "vtpm manager said Error";

        steps.recover();

        assertThat(log.matching("recover")).containsExactly(
                "recover d0 pre-suspend", "recover d1 pre-suspend", "recover d2 check");
        assertThat(recoveryFailures()).containsExactly("device 'd0' (tpm): vtpm manager said Error");
    }

    @Test
    void aDeviceNeedingOnlyFerrysSequence_takesItsTurnInSpecOrder_butIsRecoveredOnlyIfItStarted() throws Exception {
        Device before = new Device("f0", log);
        Device after = new Device("f2", log);
        DeviceSteps steps = steps(unit(before), unit(d1), unit(after));
        steps.checkAll(DEADLINE);
        d1.failingAt(Step.PRE_SUSPEND);

        assertThatThrownBy(() -> steps.preSuspendAll(DEADLINE)).isInstanceOf(DeviceSteps.StepFailure.class);
        steps.recover();

        assertThat(log.matching("recover")).containsExactly("recover f0 pre-suspend", "recover d1 check");
    }

    @Test
    void afterARestart_theJournalsLastGoodSteps_giveTheSameRecoveries() {
        DeviceSteps steps = threeXendDevices();
        Map<String, Step> fromJournal = new LinkedHashMap<>();
        fromJournal.put("d0", Step.PRE_SUSPEND);
        fromJournal.put("d1", Step.CHECK); // started step 1 and did not finish it; d2 never started

        steps.startedBefore(fromJournal);
        steps.recover();

        assertThat(log.matching("recover")).containsExactly(
                "recover d0 pre-suspend", "recover d1 check", "recover d2 check");
    }

    @Test
    void afterARestartMidRollback_theDevicesAlreadyRecoveredAreNotRecoveredAgain() {
        DeviceSteps steps = threeXendDevices();
        Map<String, Step> fromJournal = new LinkedHashMap<>();
        fromJournal.put("d1", Step.CHECK); // d0's recovery completed before the restart; d1's did not

        steps.startedBefore(fromJournal);
        steps.recoveredBefore(List.of("d0"));
        steps.recover();

        assertThat(log.matching("recover")).containsExactly("recover d1 check", "recover d2 check");
    }
}
