package dev.ferry.bench;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.EventWaiter;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import dev.ferry.vm.QemuHost;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One live migration driven straight over QMP with no device work and no agents: the floor Ferry's
 * figures are compared with. The source gets the capabilities and parameters Ferry gives it (events,
 * auto-converge, downtime-limit 300 ms, max-bandwidth unlimited) except {@code pause-before-switchover},
 * so QEMU switches over on its own; the destination is started with {@code -incoming defer} (and
 * {@code -S}, as Ferry starts it) and is told {@code cont} as soon as the stream is in.
 */
final class BareMigration {
    /** What Ferry sets when no bandwidth is asked for (QmpSourceQemu's "unlimited"): 100 GiB/s. */
    static final long UNLIMITED_BYTES_PER_SECOND = 100L * 1024 * 1024 * 1024;
    static final long DOWNTIME_LIMIT_MS = 300;
    private static final long POLL_MS = 10;
    private static final int SETTLE_ATTEMPTS = 20;
    private static final Duration LIMIT = Duration.ofMinutes(2);
    private static final Duration EVENT_WAIT = Duration.ofSeconds(5);
    private static final Set<String> FAILED = Set.of("failed", "cancelled");

    /**
     * @param destination        the VM now running on the destination; the caller owns it
     * @param destinationStartMs starting the incoming QEMU and its swtpm, up to listening
     * @param totalMs            from {@code migrate} on the source to the destination running ({@code cont} answered)
     * @param qemuDowntimeMs     QEMU's own downtime, from the source's {@code query-migrate}
     * @param guestPauseMs       the source's STOP event to the destination's RESUME event (QEMU's timestamps)
     */
    record Outcome(VmHandle destination, long destinationStartMs, long totalMs, Long qemuDowntimeMs, long guestPauseMs) {}

    private BareMigration() {}

    /** Moves {@code source} to a new QEMU on {@code to}; the source QEMU is destroyed once the destination runs. */
    static Outcome run(VmHandle source, QemuHost to, VmSpec spec) throws VmException, QmpException, InterruptedException {
        long begin = System.nanoTime();
        VmHandle dest = to.startIncoming(spec);
        try {
            QmpClient in = dest.qmp();
            in.execute("migrate-set-capabilities", Map.of("capabilities", List.of(capability("events", true))));
            in.execute("migrate-incoming", Map.of("uri", "tcp:127.0.0.1:0"));
            String uri = listeningUri(in.execute("query-migrate"));
            long destinationStartMs = millisSince(begin);

            QmpClient out = source.qmp();
            out.execute("migrate-set-capabilities", Map.of("capabilities", List.of(capability("pause-before-switchover", false),
                    capability("events", true), capability("auto-converge", true))));
            out.execute("migrate-set-parameters", Map.of("downtime-limit", DOWNTIME_LIMIT_MS,
                    "max-bandwidth", UNLIMITED_BYTES_PER_SECOND));
            EventWaiter stopped = out.expectEvent(QmpEvent.STOP);
            EventWaiter resumed = in.expectEvent(QmpEvent.RESUME);
            long migrateAt = System.nanoTime();
            out.execute("migrate", Map.of("uri", uri));
            Long qemuDowntimeMs = downtime(out, awaitCompleted(out, "source"));
            awaitCompleted(in, "destination");
            in.execute("cont");
            long totalMs = millisSince(migrateAt);
            long pause = Duration.between(stopped.await(EVENT_WAIT).timestamp(), resumed.await(EVENT_WAIT).timestamp()).toMillis();
            source.destroy();
            return new Outcome(dest, destinationStartMs, totalMs, qemuDowntimeMs, pause);
        } catch (VmException | QmpException | RuntimeException e) {
            try {
                dest.destroy();
            } catch (VmException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static Map<String, Object> capability(String name, boolean state) {
        return Map.of("capability", name, "state", state);
    }

    /** Waits for QEMU's MIGRATION events until {@code query-migrate} says completed, as Ferry's own waits do. */
    private static JsonNode awaitCompleted(QmpClient qmp, String side) throws QmpException {
        long until = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            // Listen before asking: an event between the two wakes the wait instead of being missed.
            try (EventWaiter next = qmp.expectEvent(QmpEvent.MIGRATION)) {
                JsonNode status = qmp.execute("query-migrate");
                String state = status.path("status").asText("none");
                if (state.equals("completed")) {
                    return status;
                }
                if (FAILED.contains(state)) {
                    throw new IllegalStateException("the bare migration " + state + " on the " + side + ": "
                            + status.path("error-desc").asText("QEMU gave no reason"));
                }
                long left = until - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("the bare migration did not complete on the " + side + " within "
                            + LIMIT.toSeconds() + " s (last status " + state + ")");
                }
                try {
                    next.await(Duration.ofNanos(Math.min(left, Duration.ofSeconds(1).toNanos())));
                } catch (QmpException e) {
                    // No event in this slice: ask again.
                }
            }
        }
    }

    /**
     * QEMU's downtime. QEMU sets the status to completed before it computes the downtime, so a
     * query in between reads 0; ask again for a moment, and give null if it stays 0.
     */
    private static Long downtime(QmpClient qmp, JsonNode completed) {
        AtomicReference<JsonNode> status = new AtomicReference<>(completed);
        try {
            await("QEMU's downtime figure").atMost(Duration.ofMillis(POLL_MS * SETTLE_ATTEMPTS))
                    .pollInterval(Duration.ofMillis(POLL_MS)).until(() -> {
                        if (status.get().path("downtime").asLong(0) == 0) {
                            status.set(qmp.execute("query-migrate"));
                        }
                        return status.get().path("downtime").asLong(0) != 0;
                    });
        } catch (ConditionTimeoutException e) {
            return null;
        }
        return status.get().path("downtime").asLong();
    }

    private static String listeningUri(JsonNode status) {
        for (JsonNode a : status.path("socket-address")) {
            if (a.path("type").asText().equals("inet")) {
                return "tcp:" + a.path("host").asText() + ":" + a.path("port").asText();
            }
        }
        throw new IllegalStateException("the incoming QEMU reported no listening address: " + status);
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
