package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.ferry.device.Mode;
import dev.ferry.lab.FakeClock;
import dev.ferry.migration.MigrationReport.Failure;
import dev.ferry.migration.MigrationReport.PhaseTiming;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecorderTest {
    private final FakeClock clock = new FakeClock();
    private final MemoryStore store = new MemoryStore();
    private final MigrationPlan plan = new MigrationPlan("m1", "web1", "uuid-1", "src", Mode.LIVE, "dst", List.of(),
            MigrationParams.defaults());

    private Recorder recorder() {
        return new Recorder(plan, clock, new Journal(store, "m1", "web1", Role.SOURCE, "dst", clock),
                MigrationListener.NONE);
    }

    @Test
    void enter_anEarlierPhase_isRefusedNamingMigrationVmAndBothPhases_andNotJournaled() {
        Recorder rec = recorder();
        rec.enterCheck(true);
        rec.enter(Phase.PREPARE);
        rec.enter(Phase.PRE_SUSPEND);

        assertThatThrownBy(() -> rec.enter(Phase.PREPARE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("migration m1")
                .hasMessageContaining("vm 'web1'")
                .hasMessageContaining("pre-suspend => prepare");
        assertThat(store.phases("m1")).containsExactly(Phase.CHECK, Phase.PREPARE, Phase.PRE_SUSPEND);
        assertThat(rec.current()).isEqualTo(Phase.PRE_SUSPEND);
    }

    @Test
    void enter_afterAFinalPhase_isRefused() {
        Recorder rec = recorder();
        rec.enterCheck(true);
        rec.finish(Result.REFUSED, List.of(), null);

        assertThatThrownBy(() -> rec.enter(Phase.ROLLING_BACK))
                .hasMessageContaining("refused => rolling-back");
    }

    @Test
    void finish_afterACompletedMigration_reportsTimingsDowntimeAndWhoWhere() {
        Instant started = clock.instant();
        Recorder rec = recorder();
        rec.enterCheck(true);
        clock.advance(Duration.ofMillis(200));
        rec.enter(Phase.PREPARE);
        clock.advance(Duration.ofMillis(300));
        rec.enter(Phase.PRE_SUSPEND);
        clock.advance(Duration.ofMillis(100));
        rec.enter(Phase.RAM_COPY);
        clock.advance(Duration.ofSeconds(2));
        rec.paused(clock.instant());
        rec.enter(Phase.POST_SUSPEND);
        clock.advance(Duration.ofMillis(40));
        rec.enter(Phase.SYNC);
        clock.advance(Duration.ofMillis(10));
        rec.qemuDowntime(35L);
        rec.enter(Phase.SWITCHOVER);
        clock.advance(Duration.ofMillis(25));
        rec.resumed();
        rec.enter(Phase.CLEANUP);
        clock.advance(Duration.ofMillis(5));
        rec.note("nic0 announced");

        MigrationReport report = rec.finish(Result.COMPLETED, List.of(), null);

        assertThat(report.id()).isEqualTo("m1");
        assertThat(report.vm()).isEqualTo("web1");
        assertThat(report.source()).isEqualTo("src");
        assertThat(report.destination()).isEqualTo("dst");
        assertThat(report.mode()).isEqualTo("live");
        assertThat(report.result()).isEqualTo(Result.COMPLETED);
        assertThat(report.startedAt()).isEqualTo(started);
        assertThat(report.totalMs()).isEqualTo(2680);
        assertThat(report.downtimeMs()).isEqualTo(75);
        assertThat(report.qemuDowntimeMs()).isEqualTo(35);
        assertThat(report.phases()).extracting(PhaseTiming::phase, PhaseTiming::durationMs).containsExactly(
                tuple("check", 200L), tuple("prepare", 300L), tuple("pre-suspend", 100L), tuple("ram-copy", 2000L),
                tuple("post-suspend", 40L), tuple("sync", 10L), tuple("switchover", 25L), tuple("cleanup", 5L));
        assertThat(report.notes()).containsExactly("nic0 announced");
        assertThat(report.ownerUnknown()).isFalse();
        assertThat(report.guestPaused()).isFalse();
        assertThat(report.failure()).isNull();
        assertThat(store.phases("m1")).endsWith(Phase.CLEANUP, Phase.COMPLETED);
    }

    @Test
    void enterCheck_ofAPausedGuest_journalsItAndTheReportSaysGuestPaused() {
        Recorder rec = recorder();
        rec.enterCheck(false);

        MigrationReport report = rec.finish(Result.REFUSED, List.of(), null);

        assertThat(store.journal("m1").get(0).guestWasRunning()).isFalse();
        assertThat(report.guestPaused()).isTrue();
        assertThat(report.downtimeMs()).isNull();
    }

    @Test
    void finishOwnerUnknown_atSwitchover_endsFailedAndTheJournalSaysTheOwnerIsUnknown() {
        Recorder rec = recorder();
        rec.enterCheck(true);
        for (Phase p : List.of(Phase.PREPARE, Phase.PRE_SUSPEND, Phase.RAM_COPY, Phase.POST_SUSPEND, Phase.SYNC,
                Phase.SWITCHOVER)) {
            rec.enter(p);
        }

        MigrationReport report = rec.finishOwnerUnknown(new Failure("switchover", null, null, "no answer"));

        assertThat(report.result()).isEqualTo(Result.FAILED);
        assertThat(report.ownerUnknown()).isTrue();
        assertThat(report.failure().describe()).isEqualTo("switchover: no answer");
        JournalEntry last = store.journal("m1").get(store.journal("m1").size() - 1);
        assertThat(last.phase()).isEqualTo(Phase.FAILED);
        assertThat(last.ownerUnknown()).isTrue();
        assertThat(last.detail()).isEqualTo("switchover: no answer");
    }

    @Test
    void recovered_fromAPhaseTheTableWouldNotAllow_settlesWithARecoveredEntry() {
        clock.advance(Duration.ofMinutes(3));
        Instant startedBefore = clock.instant().minus(Duration.ofMinutes(2));
        Recorder rec = new Recorder(plan, clock, new Journal(store, "m1", "web1", Role.SOURCE, "dst", clock),
                MigrationListener.NONE, Phase.PRE_SUSPEND, startedBefore);
        rec.note("the destination had taken the VM");

        MigrationReport report = rec.recovered(Result.COMPLETED, null);

        assertThat(report.result()).isEqualTo(Result.COMPLETED);
        assertThat(report.totalMs()).isEqualTo(Duration.ofMinutes(2).toMillis());
        assertThat(store.journal("m1")).singleElement().satisfies(e -> {
            assertThat(e.event()).isEqualTo(JournalEvent.RECOVERED);
            assertThat(e.phase()).isEqualTo(Phase.COMPLETED);
            assertThat(e.detail()).isEqualTo("the destination had taken the VM");
        });
        assertThat(rec.current()).isEqualTo(Phase.COMPLETED);
    }

    @Test
    void notes_areBoundedInCountAndSize_keptOnceEach_andTheReportSaysHowManyWereDropped() {
        Recorder rec = recorder();
        rec.enterCheck(true);
        for (int i = 0; i < 100_000; i++) {
            rec.note("fpga0: copying block " + i);
            rec.note("fpga0: the same line each time");
        }

        MigrationReport report = rec.finish(Result.REFUSED, List.of(), null);

        assertThat(report.notes()).hasSize(Recorder.MAX_NOTES + 1);
        assertThat(report.notes()).filteredOn(n -> n.equals("fpga0: the same line each time")).hasSize(1);
        assertThat(report.notes().get(Recorder.MAX_NOTES)).isEqualTo((200_000 - Recorder.MAX_NOTES - 99_999)
                + " more notes dropped");
    }

    @Test
    void longTexts_areCutInTheReportAndTheJournal_sayingByHowMuch() {
        Recorder rec = recorder();
        rec.enterCheck(true);
        rec.note("n".repeat(10_000));

        MigrationReport report = rec.finish(Result.FAILED, List.of(), new Failure("check", null, null, "x".repeat(50_000)));

        assertThat(report.notes().get(0)).hasSizeLessThan(Recorder.MAX_TEXT_CHARS + 40).endsWith("(8000 more characters)");
        assertThat(report.failure().message()).hasSizeLessThan(Recorder.MAX_TEXT_CHARS + 40)
                .endsWith("(48000 more characters)");
        assertThat(store.journal("m1")).allSatisfy(e -> assertThat(e.detail().length()).isLessThan(Recorder.MAX_TEXT_CHARS + 40));
    }
}
