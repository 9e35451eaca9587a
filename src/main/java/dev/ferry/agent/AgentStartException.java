package dev.ferry.agent;

/** The agent could not start: its port or data directory is taken or unusable. The message says what to change. */
public final class AgentStartException extends RuntimeException {
    public AgentStartException(String message, Throwable cause) {
        super(message, cause);
    }

    public AgentStartException(String message) {
        super(message);
    }
}
