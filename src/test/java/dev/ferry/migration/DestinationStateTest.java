package dev.ferry.migration;

import static dev.ferry.migration.DestinationState.ABORTED;
import static dev.ferry.migration.DestinationState.OWNED;
import static dev.ferry.migration.DestinationState.OWNED_NOT_RUNNING;
import static dev.ferry.migration.DestinationState.PREPARED;
import static dev.ferry.migration.DestinationState.PREPARING;
import static dev.ferry.migration.DestinationState.RESUMED;
import static org.assertj.core.api.Assertions.assertThat;
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

class DestinationStateTest {

    /** The receiver's allowed moves, written out by hand: the table in DestinationState must say exactly this. */
    private static final Set<List<DestinationState>> ALLOWED = Set.of(
            List.of(PREPARING, PREPARED), List.of(PREPARING, ABORTED),
            List.of(PREPARED, OWNED), List.of(PREPARED, ABORTED),
            List.of(OWNED, RESUMED), List.of(OWNED, OWNED_NOT_RUNNING),
            List.of(OWNED_NOT_RUNNING, RESUMED));

    static Stream<Arguments> everyPair() {
        return Arrays.stream(DestinationState.values())
                .flatMap(from -> Arrays.stream(DestinationState.values()).map(to -> Arguments.of(from, to)));
    }

    @Test
    void canGo_overEveryPair_allowsExactlyTheWrittenTable() {
        Set<List<DestinationState>> actual = new HashSet<>();
        for (DestinationState from : DestinationState.values()) {
            for (DestinationState to : DestinationState.values()) {
                if (from.canGo(to)) {
                    actual.add(List.of(from, to));
                }
            }
        }

        assertThat(actual).containsExactlyInAnyOrderElementsOf(ALLOWED);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("everyPair")
    void go_anyPair_returnsTheNewStateWhenAllowedElseThrowsNamingMigrationVmAndBothStates(DestinationState from,
                                                                                         DestinationState to) {
        if (ALLOWED.contains(List.of(from, to))) {
            assertThat(from.go("m7", "web1", to)).isEqualTo(to);
        } else {
            assertThatThrownBy(() -> from.go("m7", "web1", to))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("migration m7")
                    .hasMessageContaining("vm 'web1'")
                    .hasMessageContaining("from " + from.wireName() + " to " + to.wireName());
        }
    }

    @Test
    void owned_fromOwnedOn_andAbortableStatesAreNot() {
        assertThat(Arrays.stream(DestinationState.values()).filter(DestinationState::owned))
                .containsExactlyInAnyOrder(OWNED, RESUMED, OWNED_NOT_RUNNING);
        for (DestinationState s : DestinationState.values()) {
            assertThat(s.canGo(ABORTED)).as(s.name()).isEqualTo(s == PREPARING || s == PREPARED);
        }
    }
}
