package dev.ferry.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PanRunTest {
    private static final String CLEAN = """
            (Spin Version 6.5.2 -- 6 December 2019)
            Full statespace search for:
            \tnever claim         \t+ (never_two_running)
            State-vector 88 byte, depth reached 307, errors: 0
               103152 states, stored
            pan: elapsed time 0.55 seconds
            """;

    private static final String FOUND = """
            pan:1: acceptance cycle (at depth 140)
            pan: wrote ferry.pml.trail
            Warning: Search not completed
            State-vector 88 byte, depth reached 228, errors: 1
                 4287 states, stored (8483 visited)
            pan: elapsed time 0.09 seconds
            """;

    @Test
    void parse_cleanRun_readsZeroErrorsAndTheStateCount() {
        PanRun run = PanRun.parse(CLEAN);
        assertThat(run.errors()).isZero();
        assertThat(run.states()).isEqualTo(103152);
        assertThat(run.seconds()).isEqualTo(0.55);
        assertThat(run.complete()).isTrue();
    }

    @Test
    void parse_counterexample_readsTheErrorEvenThoughTheSearchStopped() {
        PanRun run = PanRun.parse(FOUND);
        assertThat(run.errors()).isEqualTo(1);
        assertThat(run.states()).isEqualTo(4287);
    }

    @Test
    void parse_depthLimitHit_isNotAProof() {
        PanRun run = PanRun.parse("error: max search depth too small\n" + CLEAN.replace("errors: 0", "errors: 0"));
        assertThat(run.errors()).isZero();
        assertThat(run.complete()).isFalse();
    }

    @Test
    void parse_outputWithoutCounts_failsNamingIt() {
        assertThatThrownBy(() -> PanRun.parse("pan: out of memory\n"))
                .hasMessageContaining("no error count or state count");
    }
}
