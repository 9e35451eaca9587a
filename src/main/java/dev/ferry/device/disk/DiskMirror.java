package dev.ferry.device.disk;

import dev.ferry.qmp.EventWaiter;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The source side of a local-disk copy: one {@code blockdev-mirror} per disk, from the disk's block
 * node into the destination's NBD export, all running at once in the source QEMU.
 *
 * <ol>
 * <li>{@link #start} (step 1, guest running): adds an NBD client node {@code nbd-<id>} per disk and
 *     starts job {@code mirror-<id>} with {@code sync: full}.</li>
 * <li>{@link #awaitReady}: returns once every job has sent {@code BLOCK_JOB_READY}, i.e. the target
 *     holds everything and the job now copies each guest write as it happens.</li>
 * <li>{@link #complete} (step 2, guest paused): {@code block-job-cancel} without force on a ready
 *     mirror flushes what is left and ends with {@code BLOCK_JOB_COMPLETED}: the target is a
 *     consistent copy, and the source keeps using its own image (no pivot). Then the NBD nodes go.</li>
 * <li>{@link #cancel} (rollback): force-cancels whatever still runs and removes the NBD nodes; the
 *     source image is never written by any of this.</li>
 * </ol>
 *
 * <p>Thread-safe; all methods block. Events are matched by job id, so other block jobs in the same
 * QEMU do not disturb it.
 */
public final class DiskMirror {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PROGRESS_INTERVAL = Duration.ofMillis(500);

    /**
     * One disk to copy.
     *
     * @param deviceId the disk's device id; names the jobs and nodes and matches the destination's export
     * @param nodeName the source QEMU's block node the guest's disk reads (usually its format node)
     * @param target   the destination's export for this disk
     */
    public record Disk(String deviceId, String nodeName, NbdTarget target) {
        public Disk {
            Objects.requireNonNull(deviceId, "deviceId");
            Objects.requireNonNull(nodeName, "nodeName");
            Objects.requireNonNull(target, "target");
            DiskMirrorJob.checkDeviceId(deviceId);
        }
    }

    private final QmpClient qmp;
    private final Clock clock;
    private final Map<String, DiskMirrorJob> jobs = new ConcurrentHashMap<>();
    private AutoCloseable subscription;

    public DiskMirror(QmpClient qmp) {
        this(qmp, Clock.systemUTC());
    }

    public DiskMirror(QmpClient qmp, Clock clock) {
        this.qmp = Objects.requireNonNull(qmp, "qmp");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Connects to each disk's export and starts its mirror. If one disk fails, the disks started
     * before it keep running: call {@link #cancel} to roll them back.
     *
     * @param bytesPerSecond bandwidth limit per disk; 0 for none
     */
    public synchronized void start(List<Disk> disks, long bytesPerSecond) throws DiskException {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("mirror speed must be 0 (no limit) or positive, was " + bytesPerSecond);
        }
        for (Disk disk : disks) {
            if (jobs.containsKey(disk.deviceId())) {
                throw new IllegalStateException("disk '" + disk.deviceId() + "' is already being mirrored");
            }
        }
        if (subscription == null) {
            // One subscription for all jobs: waiters are one-shot, but readiness is polled many times.
            subscription = qmp.subscribe(event -> jobs.values().forEach(job -> job.offer(event)));
        }
        for (Disk disk : disks) {
            DiskMirrorJob job = new DiskMirrorJob(disk);
            String where = "disk '" + disk.deviceId() + "' (node '" + disk.nodeName() + "')";
            try {
                qmp.execute("blockdev-add", disk.target().clientNode(job.clientNodeName()), COMMAND_TIMEOUT);
            } catch (QmpException e) {
                throw new DiskException(where + ": cannot connect to NBD export " + disk.target().uri() + ": "
                        + e.getMessage() + "; check that the destination exports it and its port is reachable", e);
            }
            // Registered before blockdev-mirror: a small disk can be READY before the command returns.
            jobs.put(disk.deviceId(), job);
            try {
                qmp.execute("blockdev-mirror", job.mirrorArgs(bytesPerSecond), COMMAND_TIMEOUT);
            } catch (QmpException e) {
                throw new DiskException(where + ": cannot start mirroring to " + disk.target().uri() + ": "
                        + e.getMessage() + "; check that the node name is the disk's block node in the source QEMU", e);
            }
        }
    }

    /**
     * Waits until every mirror is ready, calling {@code progress} about twice a second (and once at the end).
     *
     * @throws DiskException when a mirror fails or {@code timeout} passes first; the mirrors keep running
     */
    public void awaitReady(Duration timeout, Consumer<DiskMirrorProgress> progress) throws DiskException {
        awaitReady(timeout, null, null, progress);
    }

    /**
     * {@link #awaitReady(Duration, Consumer)}, failing early when the copy does not move for {@code stall}.
     *
     * @param stall    how long no byte may be copied before the copy counts as stalled; null for no limit
     * @param receiver who serves the target, named when the copy stalls; null when unknown
     */
    public void awaitReady(Duration timeout, Duration stall, String receiver, Consumer<DiskMirrorProgress> progress)
            throws DiskException {
        Instant deadline = clock.instant().plus(timeout);
        long copied = -1;
        Instant movedAt = clock.instant();
        for (DiskMirrorJob job : snapshot()) {
            while (true) {
                Duration left = Duration.between(clock.instant(), deadline);
                if (left.isNegative() || left.isZero()) {
                    throw new DiskException("disk '" + job.deviceId() + "': mirror to " + job.disk().target().uri()
                            + " not ready within " + timeout.toSeconds() + "s (" + describe(progress()) + ");"
                            + " the guest may write faster than the link copies: allow more time or pause it");
                }
                QmpEvent event = poll(job, job.readyOrEnd(), min(left, PROGRESS_INTERVAL));
                if (event == null) {
                    DiskMirrorProgress now = progress();
                    if (progress != null) {
                        progress.accept(now);
                    }
                    if (now.copiedBytes() != copied) {
                        copied = now.copiedBytes();
                        movedAt = clock.instant();
                    } else if (stall != null && !Duration.between(movedAt, clock.instant()).minus(stall).isNegative()) {
                        throw new DiskException("disk '" + job.deviceId() + "': the copy to " + job.disk().target().uri()
                                + " made no progress for " + stall.toSeconds() + " s (" + describe(now) + "); "
                                + (receiver == null ? "the destination serving that export" : receiver)
                                + " is not taking data: it is stopped or hung, or the link to it is");
                    }
                    continue;
                }
                if (!event.is(QmpEvent.BLOCK_JOB_READY)) {
                    throw new DiskException("disk '" + job.deviceId() + "': " + DiskMirrorJob.failure(event)
                            + " (target " + job.disk().target().uri() + ")");
                }
                break;
            }
        }
        report(progress);
    }

    /** How far the mirrors have come, from {@code query-block-jobs}. */
    public DiskMirrorProgress progress() throws DiskException {
        try {
            return DiskMirrorProgress.of(qmp.execute("query-block-jobs", null, COMMAND_TIMEOUT), snapshot());
        } catch (QmpException e) {
            throw new DiskException("cannot read mirror progress from " + qmp.socket() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Step 2, with the guest paused: ends every ready mirror with a consistent copy on the destination,
     * leaves the source on its own image, and removes the NBD client nodes.
     *
     * @throws DiskException naming every disk whose copy is not consistent; roll back with {@link #cancel}
     */
    public synchronized void complete(Duration timeout) throws DiskException {
        Instant deadline = clock.instant().plus(timeout);
        List<String> failures = new ArrayList<>();
        List<DiskMirrorJob> cancelled = new ArrayList<>();
        for (DiskMirrorJob job : jobs.values()) {
            if (!job.isReady()) {
                failures.add("disk '" + job.deviceId() + "': mirror is not ready"
                        + job.endEvent().map(e -> " (" + DiskMirrorJob.failure(e) + ")").orElse("; wait for awaitReady first"));
                continue;
            }
            try {
                // Without force, a ready mirror first copies what is still dirty: a point-in-time copy.
                qmp.execute("block-job-cancel", Map.of("device", job.jobId()), COMMAND_TIMEOUT);
                cancelled.add(job);
            } catch (QmpException e) {
                failures.add("disk '" + job.deviceId() + "': cannot finish its mirror: " + e.getMessage());
            }
        }
        for (DiskMirrorJob job : cancelled) {
            try {
                QmpEvent end = awaitEnd(job, deadline);
                String failure = DiskMirrorJob.failure(end);
                if (!failure.isEmpty()) {
                    failures.add("disk '" + job.deviceId() + "': " + failure + "; the copy at "
                            + job.disk().target().uri() + " is not usable");
                    continue;
                }
                deleteClientNode(job);
            } catch (DiskException e) {
                failures.add(e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new DiskException("disk copies did not complete: " + String.join("; ", failures));
        }
        unsubscribe();
    }

    /**
     * Rollback: force-cancels every mirror this object started that still runs and removes the NBD
     * client nodes. Safe to call at any point and more than once.
     */
    public synchronized void cancel(Duration timeout) throws DiskException {
        try {
            cancelAll(qmp, new ArrayList<>(jobs.keySet()), timeout);
        } finally {
            unsubscribe();
        }
    }

    /**
     * Rollback by device id, for a caller that no longer holds the {@code DiskMirror} (e.g. after a
     * restart): force-cancels the jobs and removes the NBD nodes this class names after those ids.
     */
    public static void cancelAll(QmpClient qmp, List<String> deviceIds, Duration timeout) throws DiskException {
        List<String> failures = new ArrayList<>();
        for (String deviceId : deviceIds) {
            String jobId = DiskMirrorJob.jobId(deviceId);
            try (EventWaiter end = qmp.expectEvent(e -> jobId.equals(e.data().path("device").asText())
                    && DiskMirrorJob.isEnd(e))) {
                qmp.execute("block-job-cancel", Map.of("device", jobId, "force", true), COMMAND_TIMEOUT);
                end.await(timeout);
            } catch (QmpErrorException e) {
                if (!"DeviceNotActive".equals(e.errorClass())) {
                    failures.add("disk '" + deviceId + "': cannot cancel job '" + jobId + "': " + e.description());
                }
            } catch (QmpException e) {
                failures.add("disk '" + deviceId + "': job '" + jobId + "' did not end: " + e.getMessage());
            }
            try {
                deleteClientNode(qmp, deviceId);
            } catch (DiskException e) {
                failures.add(e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new DiskException("mirror rollback on " + qmp.socket() + " left work undone: "
                    + String.join("; ", failures) + "; quitting the source QEMU also ends them");
        }
    }

    private void deleteClientNode(DiskMirrorJob job) throws DiskException {
        deleteClientNode(qmp, job.deviceId());
    }

    private static void deleteClientNode(QmpClient qmp, String deviceId) throws DiskException {
        String node = DiskMirrorJob.clientNodeName(deviceId);
        try {
            qmp.execute("blockdev-del", Map.of("node-name", node), COMMAND_TIMEOUT);
        } catch (QmpErrorException e) {
            if (!e.description().contains("Failed to find node")) {
                throw new DiskException("disk '" + deviceId + "': cannot delete NBD client node '" + node + "': "
                        + e.description(), e);
            }
        } catch (QmpException e) {
            throw new DiskException("disk '" + deviceId + "': cannot delete NBD client node '" + node + "': "
                    + e.getMessage(), e);
        }
    }

    private QmpEvent awaitEnd(DiskMirrorJob job, Instant deadline) throws DiskException {
        while (true) {
            QmpEvent end = poll(job, job.end(), min(remaining(deadline), PROGRESS_INTERVAL));
            if (end != null) {
                return end;
            }
            if (remaining(deadline).isZero()) {
                throw new DiskException("disk '" + job.deviceId() + "': mirror did not finish in time; the"
                        + " destination may be unreachable, roll back with cancel");
            }
        }
    }

    /** The event if {@code future} completes within {@code wait}, else null. */
    private QmpEvent poll(DiskMirrorJob job, CompletableFuture<QmpEvent> future, Duration wait) throws DiskException {
        if (!qmp.isOpen() && !future.isDone()) {
            throw new DiskException("disk '" + job.deviceId() + "': lost the source QEMU (" + qmp.socket()
                    + ") while mirroring; is it still running?");
        }
        try {
            return future.get(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DiskException("disk '" + job.deviceId() + "': interrupted while waiting for its mirror", e);
        } catch (ExecutionException e) {
            throw new DiskException("disk '" + job.deviceId() + "': " + e.getCause().getMessage(), e.getCause());
        }
    }

    private synchronized void unsubscribe() {
        if (subscription != null) {
            try {
                subscription.close();
            } catch (Exception e) {
                // Unsubscribing only removes a listener from a list.
                throw new IllegalStateException(e);
            }
            subscription = null;
        }
    }

    private void report(Consumer<DiskMirrorProgress> progress) throws DiskException {
        if (progress != null) {
            progress.accept(progress());
        }
    }

    private List<DiskMirrorJob> snapshot() {
        return List.copyOf(jobs.values());
    }

    private String describe(DiskMirrorProgress p) {
        return String.format(java.util.Locale.ROOT, "%.0f%% of %s copied", p.fraction() * 100,
                DiskSpaceRule.bytes(p.totalBytes()));
    }

    private Duration remaining(Instant deadline) {
        Duration left = Duration.between(clock.instant(), deadline);
        return left.isNegative() ? Duration.ZERO : left;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
