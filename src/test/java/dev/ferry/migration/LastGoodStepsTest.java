package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.device.Step;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class LastGoodStepsTest {
    private static final Instant T0 = Instant.parse("2030-01-01T12:00:00Z");

    @Test
    void lastGoodSteps_followTheJournal_inStartOrder_withTheLastCompletedStep() {
        List<JournalEntry> journal = List.of(
                device("d0", JournalStep.CHECK, JournalEvent.OK),
                device("d0", JournalStep.PRE_SUSPEND, JournalEvent.START),
                device("d0", JournalStep.PRE_SUSPEND, JournalEvent.OK),
                device("d1", JournalStep.PRE_SUSPEND, JournalEvent.START),
                device("d1", JournalStep.PRE_SUSPEND, JournalEvent.FAILED));

        assertThat(SourceRecovery.lastGoodSteps(journal))
                .containsExactly(entry("d0", Step.PRE_SUSPEND), entry("d1", Step.CHECK));
    }

    @Test
    void lastGoodSteps_leaveOutDevicesWhoseRecoveryCompletedBeforeTheRestart() {
        List<JournalEntry> journal = List.of(
                device("d0", JournalStep.PRE_SUSPEND, JournalEvent.OK),
                device("d1", JournalStep.PRE_SUSPEND, JournalEvent.OK),
                device("d1", JournalStep.RECOVER, JournalEvent.START),
                device("d1", JournalStep.RECOVER, JournalEvent.OK),
                device("d0", JournalStep.RECOVER, JournalEvent.START));

        assertThat(SourceRecovery.lastGoodSteps(journal)).containsOnlyKeys("d0");
    }

    @Test
    void recoveredBefore_namesExactlyTheDevicesWhoseRecoveryCompleted() {
        List<JournalEntry> journal = List.of(
                device("d0", JournalStep.PRE_SUSPEND, JournalEvent.OK),
                device("d0", JournalStep.RECOVER, JournalEvent.START),
                device("d0", JournalStep.RECOVER, JournalEvent.OK),
                device("d1", JournalStep.RECOVER, JournalEvent.START));

        assertThat(SourceRecovery.recoveredBefore(journal)).containsExactly("d0");
    }

    private static java.util.Map.Entry<String, Step> entry(String device, Step step) {
        return java.util.Map.entry(device, step);
    }

    private static JournalEntry device(String id, JournalStep step, JournalEvent event) {
        return new JournalEntry("m1", "web1", Role.SOURCE, "node2", Phase.PRE_SUSPEND, id, step, event, T0, null, null,
                false);
    }
}
