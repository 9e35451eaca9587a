package dev.ferry.agent;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands VM state changes to whoever listens (the event stream of the API, later migrations).
 * Listeners run on the publishing thread and must be quick; one that throws is logged and kept.
 */
public final class EventBus {
    private static final Logger log = LoggerFactory.getLogger(EventBus.class);

    private final List<Consumer<VmEvent>> listeners = new CopyOnWriteArrayList<>();

    /** Adds a listener; closing the returned handle removes it. */
    public AutoCloseable subscribe(Consumer<VmEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    void publish(VmEvent event) {
        for (Consumer<VmEvent> l : listeners) {
            try {
                l.accept(event);
            } catch (RuntimeException e) {
                log.warn("an event listener failed on {}: {}", event, e.toString());
            }
        }
    }

    int listenerCount() {
        return listeners.size();
    }
}
