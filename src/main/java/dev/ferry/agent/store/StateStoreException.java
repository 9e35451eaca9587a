package dev.ferry.agent.store;

/** The state database could not be read or written; the message names the file and what to do. */
public final class StateStoreException extends RuntimeException {
    public StateStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StateStoreException(String message) {
        super(message);
    }
}
