package dev.ferry.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProcessesTest {
    private final ProcessRunner runner = new ProcessRunner();

    @Test
    void terminateEndsAProcessAndAwaitExitSeesIt() throws Exception {
        RunningProcess sleeper = runner.start(Command.of("sleep", "1000"));
        long pid = sleeper.pid();
        try {
            assertThat(Processes.isAlive(pid)).isTrue();
            // Until setsid has exec'd the program, the pid still shows setsid's own command line.
            await().atMost(Duration.ofSeconds(5)).until(() -> Processes.commandLine(pid).equals(Optional.of("sleep 1000")));
            assertThat(Processes.awaitExit(pid, Duration.ofMillis(30))).isFalse();

            Processes.terminate(pid);

            assertThat(Processes.awaitExit(pid, Duration.ofSeconds(5))).isTrue();
            assertThat(sleeper.await().signal()).isEqualTo(15);
            assertThat(Processes.commandLine(pid)).isEmpty();
        } finally {
            sleeper.kill();
        }
    }

    @Test
    void killSendsSigkill() throws Exception {
        RunningProcess sleeper = runner.start(Command.of("sleep", "1000").timeout(Duration.ofSeconds(30)));

        Processes.kill(sleeper.pid());

        assertThat(sleeper.await().signal()).isEqualTo(9);
    }

    @Test
    void unknownPidIsNotAlive() {
        assertThat(Processes.isAlive(Integer.MAX_VALUE)).isFalse();
        assertThat(Processes.isAlive(0)).isFalse();
        assertThat(Processes.commandLine(Integer.MAX_VALUE)).isEmpty();
    }

    @Test
    void refusesToSignalInitOrItself() {
        assertThatThrownBy(() -> Processes.kill(1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Processes.terminate(ProcessHandle.current().pid()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
