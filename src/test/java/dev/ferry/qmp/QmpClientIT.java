package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import dev.ferry.proc.RunningProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Talks to a real QEMU (TCG, no guest) through its QMP socket. */
class QmpClientIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void controlsARealQemuFromPausedToQuit() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        RunningProcess qemu = new ProcessRunner().start(Command.of(
                        "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "64", "-nodefaults",
                        "-display", "none", "-qmp", "unix:" + socket + ",server=on,wait=off", "-S")
                .timeout(Duration.ofMinutes(2)));
        try (QmpClient qmp = QmpClient.connect(socket, WAIT)) {
            assertThat(qmp.greeting().path("version").path("qemu").path("major").asInt()).isPositive();

            JsonNode paused = qmp.execute("query-status");
            assertThat(paused.path("running").asBoolean()).isFalse();
            assertThat(paused.path("status").asText()).isEqualTo("prelaunch");

            EventWaiter resumed = qmp.expectEvent(QmpEvent.RESUME);
            qmp.execute("cont");
            assertThat(resumed.await(WAIT).name()).isEqualTo(QmpEvent.RESUME);
            assertThat(qmp.execute("query-status").path("status").asText()).isEqualTo("running");

            EventWaiter stopped = qmp.expectEvent(QmpEvent.STOP);
            qmp.execute("stop");
            stopped.await(WAIT);
            assertThat(qmp.execute("query-status").path("status").asText()).isEqualTo("paused");

            qmp.execute("quit");
            await().atMost(WAIT).until(() -> !qmp.isOpen());
        } finally {
            Optional<ProcResult> result = qemu.await(WAIT);
            if (result.isEmpty()) {
                qemu.kill();
            }
            assertThat(result).as("QEMU exits after quit").hasValueSatisfying(r -> assertThat(r.ok()).as(r.describe()).isTrue());
        }
        assertThat(Processes.isAlive(qemu.pid())).isFalse();
    }
}
