package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Objects;

/**
 * An asynchronous event from QEMU.
 *
 * @param name      the event name, e.g. {@link #RESUME}
 * @param data      the event's data object; an empty object when QEMU sent none
 * @param timestamp when QEMU emitted it (QEMU's clock)
 */
public record QmpEvent(String name, JsonNode data, Instant timestamp) {
    /** The guest stopped running (pause, migration switchover, or an error). */
    public static final String STOP = "STOP";
    /** The guest runs again. */
    public static final String RESUME = "RESUME";
    /** Migration status changed; {@code data.status} is the new status. Needs the {@code events} capability. */
    public static final String MIGRATION = "MIGRATION";
    /** A RAM pre-copy pass began; {@code data.pass} counts them. */
    public static final String MIGRATION_PASS = "MIGRATION_PASS";
    /** A block job (e.g. a mirror) caught up and can be completed. */
    public static final String BLOCK_JOB_READY = "BLOCK_JOB_READY";
    /** A block job ended; {@code data.error} is set when it failed. */
    public static final String BLOCK_JOB_COMPLETED = "BLOCK_JOB_COMPLETED";
    /** A block job was cancelled before it completed. */
    public static final String BLOCK_JOB_CANCELLED = "BLOCK_JOB_CANCELLED";
    /** A block job hit an I/O error. */
    public static final String BLOCK_JOB_ERROR = "BLOCK_JOB_ERROR";
    /** The guest or QEMU is shutting down. */
    public static final String SHUTDOWN = "SHUTDOWN";
    /** The guest released a device after {@code device_del}. */
    public static final String DEVICE_DELETED = "DEVICE_DELETED";

    public QmpEvent {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(timestamp, "timestamp");
    }

    public boolean is(String eventName) {
        return name.equals(eventName);
    }
}
