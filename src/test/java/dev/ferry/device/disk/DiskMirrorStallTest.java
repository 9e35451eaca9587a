package dev.ferry.device.disk;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.lab.FakeClock;
import dev.ferry.qmp.FakeQmpServer;
import dev.ferry.qmp.QmpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk copy whose offset stops moving fails after the stall timeout naming the disk, its export
 * and who serves it, long before the ready timeout; a copy that moves is left alone.
 */
class DiskMirrorStallTest {
    private static final String RECEIVER = "the destination's incoming QEMU (pid 777 on 'node2')";

    @TempDir
    Path dir;
    private FakeQmpServer qemu;
    private QmpClient qmp;
    private final FakeClock clock = new FakeClock();
    private DiskMirror mirror;

    @BeforeEach
    void startMirroring() throws Exception {
        qemu = new FakeQmpServer(dir.resolve("qmp.sock"));
        qmp = QmpClient.connect(qemu.path(), Duration.ofSeconds(5));
        mirror = new DiskMirror(qmp, clock);
        CompletableFuture<Void> started = CompletableFuture.runAsync(() -> {
            try {
                mirror.start(List.of(new DiskMirror.Disk("data0", "data0", new NbdTarget("127.0.0.1", 10809, "data0"))), 0);
            } catch (DiskException e) {
                throw new CompletionException(e);
            }
        });
        qemu.reply(qemu.takeCommand(), "{}"); // blockdev-add of the NBD client
        qemu.reply(qemu.takeCommand(), "{}"); // blockdev-mirror
        started.get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void close() throws Exception {
        qmp.close();
        qemu.close();
    }

    @Test
    void awaitReady_offsetStuckForTheStallTimeout_failsNamingTheDiskTheExportAndTheReceiver() throws Exception {
        CompletableFuture<Void> ready = awaitReady();
        answerBlockJobs(Duration.ZERO, 4 << 20);
        answerBlockJobs(Duration.ofSeconds(4), 4 << 20);
        answerBlockJobs(Duration.ofSeconds(4), 4 << 20);

        Throwable failure = failureOf(ready);
        assertThat(failure).isInstanceOf(DiskException.class);
        assertThat(failure.getMessage()).contains("disk 'data0'", "nbd://127.0.0.1:10809/data0",
                "made no progress for 8 s", RECEIVER + " is not taking data").doesNotContain("not ready within");
    }

    @Test
    void awaitReady_offsetMoving_isNotAStall() throws Exception {
        CompletableFuture<Void> ready = awaitReady();
        for (int i = 1; i <= 4; i++) {
            answerBlockJobs(Duration.ofSeconds(i == 1 ? 0 : 6), i << 20);
        }
        qemu.event("BLOCK_JOB_READY", "{\"device\":\"mirror-data0\",\"type\":\"mirror\",\"len\":67108864,"
                + "\"offset\":67108864,\"speed\":0}");
        // The mirror may ask once more before it sees the event, and reports once after it.
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!ready.isDone() && System.nanoTime() < until) {
            JsonNode more = qemu.pollCommand(Duration.ofMillis(200));
            if (more != null) {
                qemu.reply(more, "[]");
            }
        }

        ready.get(20, TimeUnit.SECONDS);
        assertThat(ready).isCompleted();
    }

    private CompletableFuture<Void> awaitReady() {
        return CompletableFuture.runAsync(() -> {
            try {
                mirror.awaitReady(Duration.ofMinutes(10), Duration.ofSeconds(8), RECEIVER, p -> {});
            } catch (DiskException e) {
                throw new CompletionException(e);
            }
        });
    }

    /** Takes the next query-block-jobs, moves the clock by {@code later}, answers with {@code offset} copied. */
    private void answerBlockJobs(Duration later, long offset) throws Exception {
        JsonNode command = qemu.takeCommand();
        assertThat(command.path("execute").asText()).isEqualTo("query-block-jobs");
        clock.advance(later);
        qemu.reply(command, "[{\"device\":\"mirror-data0\",\"type\":\"mirror\",\"len\":67108864,\"offset\":" + offset
                + ",\"busy\":true,\"paused\":false,\"ready\":false,\"speed\":0,\"status\":\"running\"}]");
    }

    private static Throwable failureOf(CompletableFuture<Void> wait) throws Exception {
        try {
            wait.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure, the wait returned");
    }
}
