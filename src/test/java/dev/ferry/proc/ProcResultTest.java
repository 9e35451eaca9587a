package dev.ferry.proc;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcResultTest {

    @Test
    void describeNamesTheProgramByItsFileName() {
        ProcResult result = result(1, null, false, "", "qemu-img: Could not open 'x': No such file\n\n");

        assertThat(result.describe()).isEqualTo("qemu-img exited 1: qemu-img: Could not open 'x': No such file");
    }

    @Test
    void describeFallsBackToStdoutWhenStderrIsEmpty() {
        assertThat(result(2, null, false, "refused: no tool\n", "").describe()).isEqualTo("qemu-img exited 2: refused: no tool");
    }

    @Test
    void describeTimeoutRoundsToReadableUnits() {
        assertThat(ProcResult.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(ProcResult.format(Duration.ofMillis(5012))).isEqualTo("5s");
        assertThat(ProcResult.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(result(137, 9, true, "", "").describe()).isEqualTo("qemu-img timed out after 5s");
    }

    private static ProcResult result(int exit, Integer signal, boolean timedOut, String out, String err) {
        return new ProcResult(List.of("/usr/bin/qemu-img", "info"), exit, signal, timedOut,
                new Output(out, false, out.length()), new Output(err, false, err.length()), Duration.ofMillis(5000));
    }
}
