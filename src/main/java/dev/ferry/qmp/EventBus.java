package dev.ferry.qmp;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands events to waiters (at once, on the reader thread) and to subscribers (in order, on a
 * dispatch thread of their own, so a subscriber may itself send a command without blocking the
 * reader that would read its reply).
 */
final class EventBus {
    private static final Logger log = LoggerFactory.getLogger(EventBus.class);
    private static final QmpEvent END = new QmpEvent("", com.fasterxml.jackson.databind.node.NullNode.getInstance(),
            java.time.Instant.EPOCH);

    private final String socket;
    private final List<Consumer<QmpEvent>> subscribers = new CopyOnWriteArrayList<>();
    private final List<EventWaiter> waiters = new ArrayList<>();
    private final BlockingQueue<QmpEvent> queue = new LinkedBlockingQueue<>();
    private QmpClosedException closed;

    EventBus(String socket) {
        this.socket = socket;
        Thread dispatcher = new Thread(this::dispatch, "qmp-events-" + socket);
        dispatcher.setDaemon(true);
        dispatcher.start();
    }

    AutoCloseable subscribe(Consumer<QmpEvent> subscriber) {
        subscribers.add(subscriber);
        return () -> subscribers.remove(subscriber);
    }

    synchronized EventWaiter register(EventWaiter waiter) {
        if (closed != null) {
            waiter.fail(closed);
            return waiter;
        }
        waiters.add(waiter);
        waiter.onUnregister(() -> unregister(waiter));
        return waiter;
    }

    private synchronized void unregister(EventWaiter waiter) {
        waiters.remove(waiter);
    }

    void publish(QmpEvent event) {
        synchronized (this) {
            waiters.removeIf(waiter -> waiter.offer(event));
        }
        queue.add(event);
    }

    /** Fails every waiter with {@code cause} and stops the dispatch thread after the queued events. */
    void close(QmpClosedException cause) {
        List<EventWaiter> pending;
        synchronized (this) {
            if (closed != null) {
                return;
            }
            closed = cause;
            pending = new ArrayList<>(waiters);
            waiters.clear();
        }
        pending.forEach(waiter -> waiter.fail(cause));
        queue.add(END);
    }

    private void dispatch() {
        try {
            for (QmpEvent event = queue.take(); event != END; event = queue.take()) {
                for (Consumer<QmpEvent> subscriber : subscribers) {
                    try {
                        subscriber.accept(event);
                    } catch (RuntimeException e) {
                        log.warn("QMP event subscriber on {} failed on {}", socket, event.name(), e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
