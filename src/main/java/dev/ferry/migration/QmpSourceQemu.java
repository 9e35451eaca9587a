package dev.ferry.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpTimeoutException;
import dev.ferry.vm.QemuTls;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The source QEMU's migration stream driven over QMP. QEMU pauses the guest before switchover
 * ({@code pause-before-switchover}) so that the devices' steps 2 and 3 run while it is paused and
 * QEMU waits for {@code migrate-continue}.
 */
public final class QmpSourceQemu implements SourceQemu {
    /** QEMU's own cap; "no limit" as far as a host link goes. */
    private static final long UNLIMITED_BYTES_PER_SECOND = 100L * 1024 * 1024 * 1024;
    private static final Duration POLL = Duration.ofMillis(50);
    private static final Duration PROGRESS_INTERVAL = Duration.ofMillis(250);
    private static final Set<String> ENDED = Set.of("cancelled", "failed", "completed", "none");

    /** What to do with the source VM once the destination owns it. */
    public interface Release {
        void release() throws MigrationException;
    }

    private final String vmName;
    private final QmpClient qmp;
    private final Clock clock;
    private final Release release;
    private final MigrationEvents events;
    private final SourceProcesses processes;
    /** How long QEMU may not answer, and its stream not move, before the migration stalled. */
    private volatile Duration stallTimeout = MigrationParams.DEFAULT_STALL_TIMEOUT;
    /** This host's certificates and how the destination is reached over TLS; both null for a plain stream. */
    private volatile QemuTls tls;
    private volatile QemuTls.Peer tlsPeer;
    /** What an operator changed while the migration runs ({@link #tune}); null: as the parameters say. */
    private Long tunedBandwidthMiBps;
    private Duration tunedDowntime;
    /** Whether QEMU has the migration's parameters, so that a change goes to it at once. */
    private boolean configured;

    public QmpSourceQemu(String vmName, QmpClient qmp, Clock clock, Release release) {
        this(vmName, qmp, clock, release, SourceProcesses.UNKNOWN);
    }

    /** @param qemuPid the source QEMU's pid and {@code runDir} its run directory, named when QEMU stops answering */
    public QmpSourceQemu(String vmName, QmpClient qmp, Clock clock, Release release, long qemuPid,
                         java.nio.file.Path runDir) {
        this(vmName, qmp, clock, release, new SourceProcesses(qemuPid, runDir));
    }

    private QmpSourceQemu(String vmName, QmpClient qmp, Clock clock, Release release, SourceProcesses processes) {
        this.vmName = vmName;
        this.qmp = qmp;
        this.clock = clock;
        this.release = release;
        this.processes = processes;
        this.events = new MigrationEvents(qmp);
    }

    /**
     * Sends the stream over TLS with this host's certificates {@code tls} to the destination {@code peer};
     * null for a plain stream. Call before {@link #configure}, which gives QEMU the credentials.
     */
    public QmpSourceQemu withTls(QemuTls tls, QemuTls.Peer peer) {
        if ((tls == null) != (peer == null)) {
            throw new IllegalArgumentException("vm '" + vmName + "': TLS needs both the certificates and the peer");
        }
        this.tls = tls;
        this.tlsPeer = peer;
        return this;
    }

    @Override
    public boolean isRunning() throws MigrationException {
        return "running".equals(call("query-status", null).path("status").asText());
    }

    /**
     * Changes the RAM copy's bandwidth cap (MiB/s, 0 for none) and QEMU's downtime limit while the
     * migration runs (null: unchanged). Before {@link #configure} the values wait for it; after, QEMU
     * gets them at once.
     */
    public synchronized void tune(Long bandwidthMiBps, Duration downtimeLimit) throws MigrationException {
        if (bandwidthMiBps != null) {
            tunedBandwidthMiBps = bandwidthMiBps;
        }
        if (downtimeLimit != null) {
            tunedDowntime = downtimeLimit;
        }
        if (configured) {
            Map<String, Object> changed = new java.util.LinkedHashMap<>();
            if (bandwidthMiBps != null) {
                changed.put("max-bandwidth", bytesPerSecond(bandwidthMiBps));
            }
            if (downtimeLimit != null) {
                changed.put("downtime-limit", downtimeLimit.toMillis());
            }
            call("migrate-set-parameters", changed);
        }
    }

    private static long bytesPerSecond(long miBps) {
        return miBps == 0 ? UNLIMITED_BYTES_PER_SECOND : miBps * 1024 * 1024;
    }

    @Override
    public synchronized void configure(MigrationParams params) throws MigrationException {
        stallTimeout = params.stallTimeout();
        call("migrate-set-capabilities", Map.of("capabilities", List.of(
                Map.of("capability", "pause-before-switchover", "state", true),
                Map.of("capability", "events", "state", true),
                Map.of("capability", "auto-converge", "state", params.autoConverge()))));
        long bandwidth = bytesPerSecond(tunedBandwidthMiBps != null ? tunedBandwidthMiBps : params.bandwidthMiBps());
        Duration downtime = tunedDowntime != null ? tunedDowntime : params.downtimeLimit();
        if (tls != null) {
            try {
                tls.addClient(qmp, tlsPeer.hostname());
            } catch (QmpException e) {
                throw new MigrationException("vm '" + vmName + "': QEMU cannot read this host's certificates in "
                        + tls.dir() + " for TLS: " + e.getMessage() + "; check them with 'ferry pki validate "
                        + tls.dir() + "'", e);
            }
        }
        // Said either way: a QEMU that sent over TLS before keeps its parameters, and an empty name turns TLS off.
        call("migrate-set-parameters", Map.of(
                "downtime-limit", downtime.toMillis(),
                "max-bandwidth", bandwidth,
                "tls-creds", tls == null ? "" : tlsPeer.creds(),
                "tls-hostname", tls == null ? "" : tlsPeer.hostname()));
        configured = true;
    }

    @Override
    public void startMigration(String uri) throws MigrationException {
        call("migrate", Map.of("uri", uri));
    }

    @Override
    public Instant awaitPreSwitchover(Duration limit, Consumer<RamProgress> progress, BooleanSupplier cancelled)
            throws MigrationException {
        Instant until = clock.instant().plus(limit);
        StallWatch watch = new StallWatch();
        while (true) {
            long mark = events.mark();
            JsonNode status = call("query-migrate", null);
            String state = status.path("status").asText("none");
            progress.accept(ram(status));
            if (state.equals("pre-switchover")) {
                Instant stop = events.stoppedAt();
                return stop != null ? stop : clock.instant();
            }
            if (ENDED.contains(state)) {
                throw new MigrationException("QEMU's migration " + state + " before switchover" + errorOf(status));
            }
            watch.check(status, "the RAM copy");
            if (cancelled.getAsBoolean()) {
                return clock.instant();
            }
            if (clock.instant().isAfter(until)) {
                throw new MigrationException("RAM copy did not converge within " + limit.toSeconds()
                        + " s; raise --downtime-ms or --bandwidth, or let auto-converge throttle the guest");
            }
            // Woken at once by QEMU's MIGRATION event, even one that came while query-migrate was
            // answered; the timeout only paces the progress reports.
            events.awaitChangeSince(mark, PROGRESS_INTERVAL);
        }
    }

    @Override
    public void continueSwitchover() throws MigrationException {
        call("migrate-continue", Map.of("state", "pre-switchover"));
    }

    @Override
    public Completion awaitCompleted(Duration limit) throws MigrationException {
        Instant until = clock.instant().plus(limit);
        StallWatch watch = new StallWatch();
        while (true) {
            long mark = events.mark();
            JsonNode status = call("query-migrate", null);
            String state = status.path("status").asText("none");
            if (state.equals("completed")) {
                return new Completion(ram(status), downtimeOf(status));
            }
            if (ENDED.contains(state)) {
                throw new MigrationException("QEMU's migration " + state + " at switchover" + errorOf(status));
            }
            watch.check(status, "the final copy (the rest of RAM and the devices' state)");
            if (clock.instant().isAfter(until)) {
                throw new MigrationException("QEMU did not finish the switchover within " + limit.toSeconds() + " s");
            }
            events.awaitChangeSince(mark, PROGRESS_INTERVAL);
        }
    }

    /**
     * QEMU sets the status to completed a moment before it computes the downtime, which reads 0
     * until then: ask again briefly rather than report a downtime of 0.
     */
    private Long downtimeOf(JsonNode status) throws MigrationException {
        Instant until = clock.instant().plus(Duration.ofMillis(500));
        while (status.path("downtime").asLong(0) == 0 && clock.instant().isBefore(until)) {
            pause(Duration.ofMillis(10));
            status = call("query-migrate", null);
        }
        long downtime = status.path("downtime").asLong(0);
        return downtime == 0 ? null : downtime;
    }

    @Override
    public void cancelMigration() throws MigrationException {
        String state = call("query-migrate", null).path("status").asText("none");
        if (ENDED.contains(state)) {
            return;
        }
        long mark = events.mark();
        call("migrate_cancel", null);
        Instant until = clock.instant().plus(Duration.ofSeconds(30));
        while (true) {
            state = call("query-migrate", null).path("status").asText("none");
            if (ENDED.contains(state)) {
                return;
            }
            if (clock.instant().isAfter(until)) {
                throw new MigrationException("QEMU did not leave migration state '" + state + "' within 30 s of a cancel");
            }
            // QEMU says "cancelled" with a MIGRATION event; the poll interval is only a fallback.
            events.awaitChangeSince(mark, POLL);
            mark = events.mark();
        }
    }

    @Override
    public void resume() throws MigrationException {
        if (!isRunning()) {
            call("cont", null);
        }
    }

    @Override
    public void release() throws MigrationException {
        events.close();
        release.release();
    }

    static RamProgress ram(JsonNode status) {
        JsonNode ram = status.path("ram");
        return new RamProgress(status.path("status").asText("none"), ram.path("transferred").asLong(),
                ram.path("remaining").asLong(), ram.path("total").asLong(), ram.path("dirty-pages-rate").asLong(),
                ram.path("dirty-sync-count").asLong());
    }

    private static String errorOf(JsonNode status) {
        return status.has("error-desc") ? ": " + status.get("error-desc").asText() : "";
    }

    /**
     * Follows the bytes QEMU reports sent: a stream that does not move for the stall timeout while
     * QEMU itself answers is stuck at the receiving end (or on the link).
     */
    private final class StallWatch {
        private long sent = -1;
        private Instant movedAt = clock.instant();

        void check(JsonNode status, String what) throws StalledException {
            long now = status.path("ram").path("transferred").asLong(0);
            if (now != sent) {
                sent = now;
                movedAt = clock.instant();
                return;
            }
            Duration still = Duration.between(movedAt, clock.instant());
            if (still.compareTo(stallTimeout) >= 0) {
                throw StalledException.stream(String.format("vm '%s': %s made no progress for %d s (%.1f MiB sent,"
                                + " stuck there; QEMU status %s)", vmName, what, still.toSeconds(), sent / 1048576.0,
                        status.path("status").asText("none")));
            }
        }
    }

    private JsonNode call(String command, Object args) throws MigrationException {
        try {
            return qmp.execute(command, args, stallTimeout);
        } catch (QmpTimeoutException e) {
            String message = "vm '" + vmName + "': " + processes.describeHung() + ": it did not answer '" + command
                    + "' within " + stallTimeout.toSeconds() + " s";
            throw processes.stoppedProcessFound() ? StalledException.unanswered(message)
                    : StalledException.silentSource(message);
        } catch (QmpException e) {
            throw new MigrationException("vm '" + vmName + "': " + e.getMessage(), e);
        }
    }

    private static void pause(Duration d) throws MigrationException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted while waiting for QEMU's migration", e);
        }
    }
}
