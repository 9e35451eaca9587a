package dev.ferry.proc;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ProcessObserverTest {

    @Test
    void observer_extendsTheCommand_seesTheExitBeforeTheGroupIsTouched_andGetsTheResult() throws Exception {
        List<Long> runningAtExit = new ArrayList<>();
        AtomicReference<ProcResult> finished = new AtomicReference<>();
        ProcessRunner runner = new ProcessRunner(new ProcessObserver() {
            @Override
            public Command starting(Command command) {
                return command.env("MARK", "call-7");
            }

            @Override
            public void exited(Command command, long pid, List<Long> contained) {
                runningAtExit.addAll(Processes.withEnvironment("MARK", command.env().get("MARK")));
                runningAtExit.remove(pid);
                runningAtExit.forEach(Processes::kill);
            }

            @Override
            public void finished(Command command, ProcResult result) {
                finished.set(result);
            }
        });

        // The background sleep outlives the shell, which exits at once.
        ProcResult result = runner.run(Command.of("sh", "-c", "echo $MARK; sleep 1000 >/dev/null 2>&1 &")
                .timeout(Duration.ofSeconds(30)));

        assertThat(result.stdout().text()).isEqualTo("call-7\n");
        assertThat(finished.get()).isSameAs(result);
        assertThat(runningAtExit).singleElement()
                .satisfies(pid -> assertThat(Processes.awaitExit(pid, Duration.ofSeconds(5))).isTrue());
    }

    @Test
    void withEnvironment_findsNothingForAMarkerNoProcessCarries() {
        assertThat(Processes.withEnvironment("FERRY_NO_SUCH_MARKER", "x")).isEmpty();
    }
}
