package dev.ferry.qmp;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * Waits for one event. Created by {@link QmpClient#expectEvent} <em>before</em> the command that
 * causes the event, so an event QEMU sends before the command's reply is not missed. One-shot:
 * after {@link #await} returns or throws, it no longer listens.
 */
public final class EventWaiter implements AutoCloseable {
    private final String what;
    private final String socket;
    private final Predicate<QmpEvent> match;
    private final CompletableFuture<QmpEvent> result = new CompletableFuture<>();
    private Runnable unregister = () -> { };

    EventWaiter(String what, String socket, Predicate<QmpEvent> match) {
        this.what = what;
        this.socket = socket;
        this.match = match;
    }

    void onUnregister(Runnable action) {
        this.unregister = action;
    }

    /** Offers an event; true when it matched and this waiter is now done. */
    boolean offer(QmpEvent event) {
        if (result.isDone()) {
            return true;
        }
        try {
            if (!match.test(event)) {
                return false;
            }
            return result.complete(event);
        } catch (RuntimeException e) {
            return result.completeExceptionally(new QmpException("matcher for " + what + " failed on " + event.name(), e));
        }
    }

    void fail(QmpException cause) {
        result.completeExceptionally(cause);
    }

    /** Whether a matching event already arrived (or the connection closed). */
    public boolean isDone() {
        return result.isDone();
    }

    /**
     * Returns the first matching event since this waiter was created, waiting at most {@code timeout}.
     *
     * @throws QmpTimeoutException when none arrived in time
     * @throws QmpClosedException  when the connection closed first
     */
    public QmpEvent await(Duration timeout) throws QmpException {
        try {
            return result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new QmpTimeoutException("no " + what + " within " + timeout.toMillis() + "ms on " + socket);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted while waiting for " + what + " on " + socket, e);
        } catch (ExecutionException e) {
            throw (QmpException) e.getCause();
        } finally {
            close();
        }
    }

    /** Stops waiting. */
    @Override
    public void close() {
        unregister.run();
    }
}
