package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QmpClientTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private FakeQmpServer server;
    private QmpClient client;

    @BeforeEach
    void connect() throws Exception {
        server = new FakeQmpServer(dir.resolve("qmp.sock"));
        client = QmpClient.connect(server.path(), Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() throws Exception {
        client.close();
        server.close();
    }

    @Test
    void connectReadsTheGreetingAndNegotiatesCapabilities() throws Exception {
        assertThat(server.negotiated()).isTrue();
        assertThat(client.greeting().path("version").path("qemu").path("major").asInt()).isEqualTo(7);
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void executeReturnsTheReturnValue() throws Exception {
        CompletableFuture<JsonNode> status = async(() -> client.execute("query-status"));

        JsonNode command = server.takeCommand();
        assertThat(command.path("execute").asText()).isEqualTo("query-status");
        assertThat(command.has("arguments")).isFalse();
        server.reply(command, "{\"status\": \"prelaunch\", \"running\": false}");

        assertThat(status.join().path("status").asText()).isEqualTo("prelaunch");
    }

    record MigrateArgs(String uri, boolean detach) {
    }

    @Test
    void argumentsMaySerializeFromRecordsMapsAndObjectNodes() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        List<Object> variants = List.of(
                new MigrateArgs("unix:/x", true),
                Map.of("uri", "unix:/x", "detach", true),
                mapper.createObjectNode().put("uri", "unix:/x").put("detach", true));
        for (Object arguments : variants) {
            CompletableFuture<JsonNode> result = async(() -> client.execute("migrate", arguments, LONG));
            JsonNode command = server.takeCommand();
            server.reply(command, "{}");
            result.join();

            assertThat(command.get("arguments")).isEqualTo(mapper.readTree("{\"uri\": \"unix:/x\", \"detach\": true}"));
        }
        assertThatThrownBy(() -> client.execute("migrate", List.of(1), LONG))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'migrate'");
    }

    @Test
    void repliesAreMatchedByIdEvenOutOfOrder() throws Exception {
        CompletableFuture<JsonNode> first = async(() -> client.execute("query-name"));
        JsonNode firstCommand = server.takeCommand();
        CompletableFuture<JsonNode> second = async(() -> client.execute("query-uuid"));
        JsonNode secondCommand = server.takeCommand();
        assertThat(firstCommand.get("id")).isNotEqualTo(secondCommand.get("id"));

        server.reply(secondCommand, "{\"UUID\": \"u-1\"}");
        assertThat(second.join().path("UUID").asText()).isEqualTo("u-1");
        assertThat(first).isNotDone();
        server.reply(firstCommand, "{\"name\": \"web1\"}");

        assertThat(first.join().path("name").asText()).isEqualTo("web1");
    }

    @Test
    void errorRepliesBecomeTypedExceptions() throws Exception {
        CompletableFuture<JsonNode> result = async(() -> client.execute("device_del", Map.of("id", "nic9"), LONG));
        server.error(server.takeCommand(), "DeviceNotFound", "Device 'nic9' not found");

        assertThatThrownBy(result::join).cause()
                .isInstanceOfSatisfying(QmpErrorException.class, e -> {
                    assertThat(e.errorClass()).isEqualTo("DeviceNotFound");
                    assertThat(e.description()).isEqualTo("Device 'nic9' not found");
                    assertThat(e.command()).isEqualTo("device_del");
                })
                .hasMessage("qmp command 'device_del' failed: DeviceNotFound: Device 'nic9' not found");
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void aCommandWithoutReplyTimesOutAndALateReplyIsIgnored() throws Exception {
        assertThatThrownBy(() -> client.execute("query-migrate", null, Duration.ofMillis(100)))
                .isInstanceOf(QmpTimeoutException.class)
                .hasMessageContaining("'query-migrate' got no reply within 100ms");
        server.reply(server.takeCommand(), "{\"status\": \"late\"}");

        CompletableFuture<JsonNode> next = async(() -> client.execute("query-status"));
        server.reply(server.takeCommand(), "{\"status\": \"running\"}");
        assertThat(next.join().path("status").asText()).isEqualTo("running");
    }

    @Test
    void eventsReachSubscribersInOrderUntilTheyUnsubscribe() throws Exception {
        BlockingQueue<QmpEvent> seen = new LinkedBlockingQueue<>();
        AutoCloseable subscription = client.subscribe(seen::add);

        server.event(QmpEvent.STOP, null);
        server.event(QmpEvent.MIGRATION, "{\"status\": \"active\"}");

        QmpEvent stop = seen.poll(5, TimeUnit.SECONDS);
        assertThat(stop.name()).isEqualTo(QmpEvent.STOP);
        assertThat(stop.data().isEmpty()).isTrue();
        assertThat(stop.timestamp()).isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 250_000_000L));
        QmpEvent migration = seen.poll(5, TimeUnit.SECONDS);
        assertThat(migration.data().path("status").asText()).isEqualTo("active");

        subscription.close();
        EventWaiter marker = client.expectEvent(QmpEvent.RESUME);
        server.event(QmpEvent.RESUME, null);
        marker.await(Duration.ofSeconds(5));
        assertThat(seen.poll(50, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void aSubscriberMayRunCommandsFromTheEventThread() throws Exception {
        CompletableFuture<JsonNode> fromListener = new CompletableFuture<>();
        client.subscribe(event -> {
            try {
                fromListener.complete(client.execute("query-status"));
            } catch (QmpException e) {
                fromListener.completeExceptionally(e);
            }
        });

        server.event(QmpEvent.STOP, null);
        server.reply(server.takeCommand(), "{\"status\": \"paused\"}");

        assertThat(fromListener.get(5, TimeUnit.SECONDS).path("status").asText()).isEqualTo("paused");
    }

    @Test
    void aWaiterCreatedBeforeTheCommandSeesAnEventSentBeforeTheReply() throws Exception {
        EventWaiter resumed = client.expectEvent(QmpEvent.RESUME);
        CompletableFuture<JsonNode> cont = async(() -> client.execute("cont"));
        JsonNode command = server.takeCommand();
        server.event(QmpEvent.RESUME, null);
        server.reply(command, "{}");
        cont.join();

        assertThat(resumed.await(Duration.ofSeconds(5)).name()).isEqualTo(QmpEvent.RESUME);
    }

    @Test
    void aWaiterMatchesOnTheEventData() throws Exception {
        EventWaiter completed = client.expectEvent(e -> e.is(QmpEvent.MIGRATION)
                && e.data().path("status").asText().equals("completed"));

        server.event(QmpEvent.MIGRATION, "{\"status\": \"active\"}");
        server.event(QmpEvent.MIGRATION, "{\"status\": \"completed\"}");

        assertThat(completed.await(Duration.ofSeconds(5)).data().path("status").asText()).isEqualTo("completed");
    }

    @Test
    void awaitEventTimesOutWhenNothingMatches() throws Exception {
        server.event(QmpEvent.STOP, null);

        assertThatThrownBy(() -> client.awaitEvent(e -> e.is(QmpEvent.SHUTDOWN), Duration.ofMillis(100)))
                .isInstanceOf(QmpTimeoutException.class)
                .hasMessageContaining("within 100ms");
    }

    @Test
    void qemuHangingUpFailsThePendingCommandAtOnce() throws Exception {
        EventWaiter waiter = client.expectEvent(QmpEvent.SHUTDOWN);
        CompletableFuture<JsonNode> pending = async(() -> client.execute("query-status", null, LONG));
        server.takeCommand();
        long start = System.nanoTime();

        server.hangUp();

        assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(QmpClosedException.class)
                .hasMessageContaining("QEMU closed the QMP connection while 'query-status' was pending");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThatThrownBy(() -> waiter.await(Duration.ofSeconds(5))).isInstanceOf(QmpClosedException.class);
        assertThat(client.isOpen()).isFalse();
        assertThatThrownBy(() -> client.execute("query-status")).isInstanceOf(QmpClosedException.class)
                .hasMessageContaining("cannot run qmp command 'query-status'");
        assertThatThrownBy(() -> client.expectEvent(QmpEvent.STOP).await(LONG)).isInstanceOf(QmpClosedException.class);
    }

    @Test
    void closingTheClientFailsPendingCommands() throws Exception {
        CompletableFuture<JsonNode> pending = async(() -> client.execute("query-status", null, LONG));
        server.takeCommand();

        client.close();

        assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(QmpClosedException.class)
                .hasMessageContaining("the QMP client was closed while 'query-status' was pending");
    }

    @Test
    void connectingToAMissingSocketFailsAfterTheTimeout() {
        Path missing = dir.resolve("missing.sock");

        assertThatThrownBy(() -> QmpClient.connect(missing, Duration.ofMillis(100)))
                .isInstanceOf(QmpException.class)
                .hasMessageContaining("cannot connect to QMP socket " + missing);
    }

    @Test
    void aServerThatNeverGreetsTimesOut() throws Exception {
        try (FakeQmpServer silent = new FakeQmpServer(dir.resolve("silent.sock"), false)) {
            assertThatThrownBy(() -> QmpClient.connect(silent.path(), Duration.ofMillis(200)))
                    .isInstanceOf(QmpTimeoutException.class)
                    .hasMessageContaining("no QMP greeting");
        }
    }

    interface QmpCall {
        JsonNode call() throws QmpException;
    }

    private static CompletableFuture<JsonNode> async(QmpCall call) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return call.call();
            } catch (QmpException e) {
                throw new CompletionException(e);
            }
        });
    }
}
