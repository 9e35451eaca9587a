package dev.ferry.migration;

import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpEvent;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a source QEMU's MIGRATION and STOP events, so that waits end the moment QEMU's
 * migration changes state (every millisecond of polling inside the pause is downtime) and the
 * guest's pause is timed by QEMU's own STOP event.
 */
final class MigrationEvents implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MigrationEvents.class);

    private final AutoCloseable subscription;
    private long changes;
    private Instant stoppedAt;

    MigrationEvents(QmpClient qmp) {
        this.subscription = qmp.subscribe(this::seen);
    }

    private synchronized void seen(QmpEvent e) {
        if (e.is(QmpEvent.STOP)) {
            stoppedAt = e.timestamp();
        } else if (e.is(QmpEvent.RESUME)) {
            stoppedAt = null;
        }
        if (e.is(QmpEvent.MIGRATION) || e.is(QmpEvent.STOP)) {
            changes++;
            notifyAll();
        }
    }

    /** When QEMU last stopped the guest, if it is stopped now. */
    synchronized Instant stoppedAt() {
        return stoppedAt;
    }

    /**
     * A mark to wait from: take it before asking QEMU for its state, so that an event which arrives
     * while the answer is on its way still ends the following {@link #awaitChangeSince} at once.
     */
    synchronized long mark() {
        return changes;
    }

    /** Waits until a MIGRATION or STOP event arrived after {@code mark}, or {@code max}. */
    synchronized void awaitChangeSince(long mark, Duration max) throws MigrationException {
        long until = System.nanoTime() + max.toNanos();
        try {
            while (changes == mark) {
                long left = until - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                wait(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted while waiting for QEMU's migration", e);
        }
    }

    @Override
    public void close() {
        try {
            subscription.close();
        } catch (Exception e) {
            log.debug("closing the migration event subscription failed", e);
        }
    }
}
