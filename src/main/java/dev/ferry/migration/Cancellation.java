package dev.ferry.migration;

import java.util.concurrent.atomic.AtomicReference;

/** A cancel request for one migration; honoured at every phase boundary before switchover. */
public final class Cancellation {
    private final AtomicReference<String> reason = new AtomicReference<>();

    /** Asks the migration to stop; returns false when a cancel was already requested. */
    public boolean cancel(String why) {
        return reason.compareAndSet(null, why);
    }

    public boolean isCancelled() {
        return reason.get() != null;
    }

    void throwIfCancelled() throws CancelledException {
        String why = reason.get();
        if (why != null) {
            throw new CancelledException(why);
        }
    }

    /** The migration was cancelled; rolls back like a failure. */
    static final class CancelledException extends Exception {
        CancelledException(String why) {
            super("cancelled: " + why);
        }
    }
}
