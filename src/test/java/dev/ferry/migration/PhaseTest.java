package dev.ferry.migration;

import static dev.ferry.migration.Phase.CHECK;
import static dev.ferry.migration.Phase.CHECKED;
import static dev.ferry.migration.Phase.CLEANUP;
import static dev.ferry.migration.Phase.COMPLETED;
import static dev.ferry.migration.Phase.FAILED;
import static dev.ferry.migration.Phase.POST_SUSPEND;
import static dev.ferry.migration.Phase.PREPARE;
import static dev.ferry.migration.Phase.PRE_SUSPEND;
import static dev.ferry.migration.Phase.RAM_COPY;
import static dev.ferry.migration.Phase.REFUSED;
import static dev.ferry.migration.Phase.ROLLED_BACK;
import static dev.ferry.migration.Phase.ROLLING_BACK;
import static dev.ferry.migration.Phase.SWITCHOVER;
import static dev.ferry.migration.Phase.SYNC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PhaseTest {

    /** The journal's allowed moves, written out by hand: the table in Phase must say exactly this. */
    private static final Set<List<Phase>> ALLOWED = Set.of(
            List.of(CHECK, PREPARE), List.of(CHECK, CHECKED), List.of(CHECK, REFUSED),
            List.of(CHECK, ROLLING_BACK), List.of(CHECK, ROLLED_BACK), List.of(CHECK, FAILED),
            List.of(PREPARE, PRE_SUSPEND), List.of(PREPARE, SWITCHOVER),
            List.of(PREPARE, ROLLING_BACK), List.of(PREPARE, ROLLED_BACK), List.of(PREPARE, FAILED),
            List.of(PRE_SUSPEND, RAM_COPY),
            List.of(PRE_SUSPEND, ROLLING_BACK), List.of(PRE_SUSPEND, ROLLED_BACK), List.of(PRE_SUSPEND, FAILED),
            List.of(RAM_COPY, POST_SUSPEND),
            List.of(RAM_COPY, ROLLING_BACK), List.of(RAM_COPY, ROLLED_BACK), List.of(RAM_COPY, FAILED),
            List.of(POST_SUSPEND, SYNC),
            List.of(POST_SUSPEND, ROLLING_BACK), List.of(POST_SUSPEND, ROLLED_BACK), List.of(POST_SUSPEND, FAILED),
            List.of(SYNC, SWITCHOVER),
            List.of(SYNC, ROLLING_BACK), List.of(SYNC, ROLLED_BACK), List.of(SYNC, FAILED),
            List.of(SWITCHOVER, CLEANUP), List.of(SWITCHOVER, COMPLETED), List.of(SWITCHOVER, ROLLED_BACK),
            List.of(SWITCHOVER, FAILED),
            List.of(CLEANUP, COMPLETED), List.of(CLEANUP, FAILED),
            List.of(ROLLING_BACK, ROLLED_BACK), List.of(ROLLING_BACK, FAILED));

    static Stream<Arguments> everyPair() {
        return Arrays.stream(Phase.values())
                .flatMap(from -> Arrays.stream(Phase.values()).map(to -> Arguments.of(from, to)));
    }

    @Test
    void canFollow_overEveryPair_allowsExactlyTheWrittenTable() {
        Set<List<Phase>> actual = new HashSet<>();
        for (Phase from : Phase.values()) {
            for (Phase to : Phase.values()) {
                if (from.canFollow(to)) {
                    actual.add(List.of(from, to));
                }
            }
        }

        assertThat(actual).containsExactlyInAnyOrderElementsOf(ALLOWED);
    }

    @ParameterizedTest(name = "{0} => {1}")
    @MethodSource("everyPair")
    void checkTransition_anyPair_passesWhenAllowedElseThrowsNamingMigrationVmAndBothPhases(Phase from, Phase to) {
        if (ALLOWED.contains(List.of(from, to))) {
            assertThatCode(() -> from.checkTransition("m7", "web1", to)).doesNotThrowAnyException();
        } else {
            assertThatThrownBy(() -> from.checkTransition("m7", "web1", to))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("migration m7")
                    .hasMessageContaining("vm 'web1'")
                    .hasMessageContaining(from.wireName() + " => " + to.wireName());
        }
    }

    @Test
    void isFinal_exactlyThePhasesWithNoSuccessor() {
        for (Phase p : Phase.values()) {
            boolean hasSuccessor = Arrays.stream(Phase.values()).anyMatch(p::canFollow);
            assertThat(p.isFinal()).as(p.name()).isEqualTo(!hasSuccessor);
        }
        assertThat(Arrays.stream(Phase.values()).filter(Phase::isFinal))
                .containsExactlyInAnyOrder(COMPLETED, CHECKED, REFUSED, ROLLED_BACK, FAILED);
    }

    @Test
    void pastPointOfNoReturn_onlySwitchoverCleanupAndCompleted() {
        assertThat(Arrays.stream(Phase.values()).filter(Phase::pastPointOfNoReturn))
                .containsExactlyInAnyOrder(SWITCHOVER, CLEANUP, COMPLETED);
    }

    @Test
    void fromWireName_ofEveryWireName_roundTrips_andAnUnknownNameIsRefused() {
        for (Phase p : Phase.values()) {
            assertThat(Phase.fromWireName(p.wireName())).isEqualTo(p);
        }
        assertThatThrownBy(() -> Phase.fromWireName("teleport"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'teleport'");
    }
}
