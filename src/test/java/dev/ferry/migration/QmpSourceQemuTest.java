package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.lab.FakeClock;
import dev.ferry.qmp.FakeQmpServer;
import dev.ferry.qmp.QmpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source's stall watch against a scripted QMP server and a clock the test moves: a stream
 * that stops moving fails after the stall timeout, naming it; one that moves but never converges
 * still fails as "did not converge"; a QEMU that does not answer is named with its pid.
 */
class QmpSourceQemuTest {
    private static final MigrationParams PARAMS = new MigrationParams(Duration.ofMillis(300), 0, true,
            Duration.ofSeconds(60), Duration.ofSeconds(60), 0, Duration.ofSeconds(5));

    @TempDir
    Path dir;
    private FakeQmpServer qemu;
    private QmpClient qmp;
    private final FakeClock clock = new FakeClock();
    private QmpSourceQemu source;

    @BeforeEach
    void connect() throws Exception {
        qemu = new FakeQmpServer(dir.resolve("qmp.sock"));
        qmp = QmpClient.connect(qemu.path(), Duration.ofSeconds(5));
        source = new QmpSourceQemu("web1", qmp, clock, () -> {}, 4242, dir);
    }

    @AfterEach
    void close() throws Exception {
        qmp.close();
        qemu.close();
    }

    @Test
    void awaitPreSwitchover_streamStuckForTheStallTimeout_failsAsStalledNamingIt() throws Exception {
        configure();
        CompletableFuture<Object> wait = awaitPreSwitchover();
        answerQueryMigrate(Duration.ZERO, "active", 1_048_576);
        answerQueryMigrate(Duration.ofSeconds(3), "active", 1_048_576);
        answerQueryMigrate(Duration.ofSeconds(3), "active", 1_048_576);

        Throwable failure = failureOf(wait);
        assertThat(failure).isInstanceOf(StalledException.class);
        assertThat(((StalledException) failure).inStream()).isTrue();
        assertThat(failure.getMessage()).contains("vm 'web1'", "the RAM copy made no progress for 6 s", "1.0 MiB sent")
                .doesNotContain("converge");
    }

    @Test
    void awaitPreSwitchover_streamMovesButNeverConverges_failsAsNotConverged() throws Exception {
        configure();
        CompletableFuture<Object> wait = awaitPreSwitchover();
        answerQueryMigrate(Duration.ZERO, "active", 1_048_576L);
        for (int i = 2; i <= 17; i++) {
            answerQueryMigrate(Duration.ofSeconds(4), "active", i * 1_048_576L);
        }

        Throwable failure = failureOf(wait);
        assertThat(failure).isNotInstanceOf(StalledException.class);
        assertThat(failure.getMessage()).contains("did not converge within 60 s");
    }

    @Test
    void awaitCompleted_finalCopyStuck_failsAsStalled() throws Exception {
        configure();
        CompletableFuture<Object> wait = CompletableFuture.supplyAsync(() -> {
            try {
                return source.awaitCompleted(Duration.ofSeconds(60));
            } catch (MigrationException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        answerQueryMigrate(Duration.ZERO, "device", 5_000_000);
        answerQueryMigrate(Duration.ofSeconds(5), "device", 5_000_000);

        Throwable failure = failureOf(wait);
        assertThat(failure).isInstanceOf(StalledException.class);
        assertThat(failure.getMessage()).contains("the final copy", "made no progress for 5 s");
    }

    @Test
    void qemuThatDoesNotAnswer_isNamedWithItsPid() throws Exception {
        configure();
        CompletableFuture<Object> wait = CompletableFuture.supplyAsync(() -> {
            try {
                return source.isRunning();
            } catch (MigrationException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        assertThat(qemu.takeCommand().path("execute").asText()).isEqualTo("query-status");
        // No answer: the client gives up after the stall timeout (5 s of real time, QMP's own wait).

        Throwable failure = failureOf(wait);
        assertThat(failure).isInstanceOf(StalledException.class);
        assertThat(((StalledException) failure).inStream()).isFalse();
        assertThat(failure.getMessage()).contains("the source's QEMU (pid 4242)", "did not answer 'query-status' within 5 s");
    }

    @Test
    void tune_beforeConfigure_waitsForIt_andConfigureSendsTheTunedValues() throws Exception {
        source.tune(8L, Duration.ofMillis(900));
        assertThat(qemu.pollCommand(Duration.ofMillis(200))).as("nothing goes to QEMU before the migration is configured").isNull();

        CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
            try {
                source.configure(PARAMS);
            } catch (MigrationException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        qemu.reply(qemu.takeCommand(), "{}");
        JsonNode parameters = qemu.takeCommand();
        qemu.reply(parameters, "{}");
        done.get(10, TimeUnit.SECONDS);

        assertThat(parameters.path("execute").asText()).isEqualTo("migrate-set-parameters");
        assertThat(parameters.path("arguments").path("max-bandwidth").asLong()).isEqualTo(8L * 1024 * 1024);
        assertThat(parameters.path("arguments").path("downtime-limit").asLong()).isEqualTo(900);
    }

    @Test
    void tune_afterConfigure_sendsOnlyWhatChanged_atOnce_andZeroLiftsTheCap() throws Exception {
        configure();

        CompletableFuture<Void> tuned = CompletableFuture.runAsync(() -> {
            try {
                source.tune(0L, null);
            } catch (MigrationException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        JsonNode command = qemu.takeCommand();
        qemu.reply(command, "{}");
        tuned.get(10, TimeUnit.SECONDS);

        assertThat(command.path("execute").asText()).isEqualTo("migrate-set-parameters");
        assertThat(command.path("arguments").path("max-bandwidth").asLong())
                .as("no cap: QEMU's own maximum").isEqualTo(100L * 1024 * 1024 * 1024);
        assertThat(command.path("arguments").has("downtime-limit")).isFalse();
    }

    private void configure() throws Exception {
        CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
            try {
                source.configure(PARAMS);
            } catch (MigrationException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        qemu.reply(qemu.takeCommand(), "{}");
        qemu.reply(qemu.takeCommand(), "{}");
        done.get(10, TimeUnit.SECONDS);
    }

    private CompletableFuture<Object> awaitPreSwitchover() {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return source.awaitPreSwitchover(Duration.ofSeconds(60), p -> {}, () -> false);
            } catch (MigrationException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    /**
     * Takes the next query-migrate (so the source has dealt with the previous answer), moves the
     * clock by {@code later}, then answers it.
     */
    private void answerQueryMigrate(Duration later, String status, long transferred) throws Exception {
        JsonNode command = qemu.takeCommand();
        clock.advance(later);
        assertThat(command.path("execute").asText()).isEqualTo("query-migrate");
        qemu.reply(command, "{\"status\":\"" + status + "\",\"ram\":{\"transferred\":" + transferred
                + ",\"remaining\":100000000,\"total\":268435456}}");
    }

    private static Throwable failureOf(CompletableFuture<Object> wait) throws Exception {
        try {
            wait.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure, the wait returned");
    }
}
