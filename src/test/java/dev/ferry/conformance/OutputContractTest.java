package dev.ferry.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.device.ToolDialect;
import dev.ferry.proc.Output;
import dev.ferry.proc.ProcResult;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutputContractTest {

    private static ProcResult result(int exit, String stdout, String stderr) {
        return new ProcResult(List.of("tool"), exit, null, false, new Output(stdout, false, stdout.length()),
                new Output(stderr, false, stderr.length()), Duration.ofMillis(5));
    }

    @Test
    void wellFormedJsonAndPlainLines_breakNothing() {
        ProcResult r = result(0, "{\"progress\":0.5}\n{\"message\":\"copied\"}\nplain words\n", "+ echo Error\n");

        assertThat(OutputContract.breaches(ToolDialect.FERRY, r, 1024)).isEmpty();
    }

    @Test
    void malformedJson_isNamedWithItsLineNumber() {
        ProcResult r = result(0, "starting\n{\"progress\":\n", "");

        assertThat(OutputContract.breaches(ToolDialect.FERRY, r, 1024)).singleElement().asString()
                .startsWith("stdout line 2 is not valid JSON: '{\"progress\":'");
    }

    @Test
    void jsonWithWrongTypes_isNamed() {
        ProcResult r = result(0, "{\"progress\":7}\n{\"message\":3}\n", "");

        assertThat(OutputContract.breaches(ToolDialect.FERRY, r, 1024)).containsExactly(
                "stdout line 1 has a progress that is not a number from 0 to 1: '{\"progress\":7}'; print one JSON"
                        + " object per line, or a line that does not start with '{'",
                "stdout line 2 has a message that is not a string: '{\"message\":3}'; print one JSON object per line,"
                        + " or a line that does not start with '{'");
    }

    @Test
    void xenDialect_doesNotReadJson() {
        ProcResult r = result(0, "{not json\n", "");

        assertThat(OutputContract.breaches(ToolDialect.XEN, r, 1024)).isEmpty();
    }

    @Test
    void errorLineWithExitZero_isABreach_butAShellTraceOfItIsNot() {
        assertThat(OutputContract.breaches(ToolDialect.XEN, result(0, "Error: no room\n", ""), 1024))
                .singleElement().asString().startsWith("exited 0 but printed an error: 'Error: no room'");
        assertThat(OutputContract.breaches(ToolDialect.XEN, result(0, "", "+ echo 'Error: x'\n"), 1024)).isEmpty();
        assertThat(OutputContract.breaches(ToolDialect.XEN, result(1, "Error: no room\n", ""), 1024)).isEmpty();
    }

    @Test
    void jsonErrorWithExitZero_isABreachInTheFerryDialect() {
        ProcResult r = result(0, "{\"error\":\"key missing\"}\n", "");

        assertThat(OutputContract.breaches(ToolDialect.FERRY, r, 1024)).singleElement().asString()
                .startsWith("exited 0 but printed an error: '{\"error\":\"key missing\"}'");
    }

    @Test
    void outputOverTheCap_isNamedWithItsSize() {
        ProcResult r = new ProcResult(List.of("tool"), 0, null, false, new Output("tail", true, 5000),
                Output.EMPTY, Duration.ofMillis(5));

        assertThat(OutputContract.breaches(ToolDialect.FERRY, r, 1024)).containsExactly(
                "wrote 5000 bytes to stdout, over the cap of 1024; Ferry keeps only the last 1024 bytes, so say less");
    }
}
