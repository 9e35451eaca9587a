package dev.ferry.device.disk;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpEvent;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * One disk's mirror on the source QEMU: the names it uses there and the events that tell its fate.
 * The names derive from the device id alone, so a restarted agent can find and remove them.
 */
final class DiskMirrorJob {
    /** QEMU keeps node names in a 32-byte buffer, so they may have 31 characters. */
    static final int MAX_NODE_NAME = 31;
    private static final Pattern QEMU_ID = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]*");

    private final DiskMirror.Disk disk;
    private final CompletableFuture<QmpEvent> readyOrEnd = new CompletableFuture<>();
    private final CompletableFuture<QmpEvent> end = new CompletableFuture<>();

    DiskMirrorJob(DiskMirror.Disk disk) {
        this.disk = disk;
    }

    static String jobId(String deviceId) {
        return "mirror-" + deviceId;
    }

    static String clientNodeName(String deviceId) {
        return "nbd-" + deviceId;
    }

    /** Throws unless QEMU accepts the names derived from {@code deviceId}. */
    static void checkDeviceId(String deviceId) {
        if (!QEMU_ID.matcher(deviceId).matches()) {
            throw new IllegalArgumentException("disk '" + deviceId + "': a device id must start with a letter and hold"
                    + " only letters, digits, '-', '.' and '_' to name QEMU block nodes and jobs after it");
        }
        if (clientNodeName(deviceId).length() > MAX_NODE_NAME) {
            throw new IllegalArgumentException("disk '" + deviceId + "': device id is too long to name QEMU's NBD node '"
                    + clientNodeName(deviceId) + "' (at most " + MAX_NODE_NAME + " characters); shorten it");
        }
    }

    String deviceId() {
        return disk.deviceId();
    }

    String jobId() {
        return jobId(disk.deviceId());
    }

    String clientNodeName() {
        return clientNodeName(disk.deviceId());
    }

    DiskMirror.Disk disk() {
        return disk;
    }

    /** Arguments of {@code blockdev-mirror}; {@code bytesPerSecond} 0 means no limit. */
    Map<String, Object> mirrorArgs(long bytesPerSecond) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("job-id", jobId());
        args.put("device", disk.nodeName());
        args.put("target", clientNodeName());
        args.put("sync", "full");
        if (bytesPerSecond > 0) {
            args.put("speed", bytesPerSecond);
        }
        return args;
    }

    /** Takes one of this job's events; called in order, from the QMP client's event thread. */
    void offer(QmpEvent event) {
        if (!isMine(event)) {
            return;
        }
        if (event.is(QmpEvent.BLOCK_JOB_READY)) {
            readyOrEnd.complete(event);
        } else if (isEnd(event)) {
            readyOrEnd.complete(event);
            end.complete(event);
        }
    }

    /** Ends the waits for this job, e.g. when the QMP connection is gone. */
    void fail(Exception cause) {
        readyOrEnd.completeExceptionally(cause);
        end.completeExceptionally(cause);
    }

    boolean isMine(QmpEvent event) {
        return jobId().equals(event.data().path("device").asText());
    }

    static boolean isEnd(QmpEvent event) {
        return event.is(QmpEvent.BLOCK_JOB_COMPLETED) || event.is(QmpEvent.BLOCK_JOB_CANCELLED);
    }

    boolean hasEnded() {
        return end.isDone();
    }

    boolean isReady() {
        return !hasEnded() && readyOrEnd.isDone() && !readyOrEnd.isCompletedExceptionally()
                && readyOrEnd.join().is(QmpEvent.BLOCK_JOB_READY);
    }

    /** Completes with {@code BLOCK_JOB_READY}, or with the end event if the job ended before it was ready. */
    CompletableFuture<QmpEvent> readyOrEnd() {
        return readyOrEnd;
    }

    /** Completes with {@code BLOCK_JOB_COMPLETED} or {@code BLOCK_JOB_CANCELLED}. */
    CompletableFuture<QmpEvent> end() {
        return end;
    }

    /** The end event if the job has ended, else empty. */
    Optional<QmpEvent> endEvent() {
        return end.isDone() && !end.isCompletedExceptionally() ? Optional.of(end.join()) : Optional.empty();
    }

    /** Why the job failed, from its end event: QEMU's error, or that it was cancelled. */
    static String failure(QmpEvent event) {
        JsonNode error = event.data().path("error");
        if (!error.isMissingNode() && !error.isNull()) {
            return "mirror failed: " + error.asText();
        }
        return event.is(QmpEvent.BLOCK_JOB_CANCELLED) ? "mirror was cancelled before the copy was consistent" : "";
    }
}
