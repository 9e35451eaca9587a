package dev.ferry.agent;

/**
 * A request the agent refuses or could not carry out. The kind says which; the HTTP layer maps it
 * to a status, the message is meant for the person who asked.
 */
public class AgentException extends RuntimeException {

    /** Why a request failed. */
    public enum Kind {
        /** No VM (or other object) of that name. */
        NOT_FOUND,
        /** Another job holds the VM's lease. */
        BUSY,
        /** The request contradicts what exists, e.g. defining a name twice or undefining a running VM. */
        CONFLICT,
        /** The request itself is wrong: malformed or missing a field. */
        INVALID,
        /** The VM spec in the request does not validate; the message names the field. */
        INVALID_SPEC,
        /** A host path the request names lies outside the roots this host lets VMs use; the message names them. */
        PATH_NOT_ALLOWED,
        /** The VM runtime failed while carrying the request out. */
        FAILED,
        /** A destination that did not take a migrating VM, and never will: the source still owns it. */
        NOT_TAKEN
    }

    private final Kind kind;

    public AgentException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public AgentException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    static AgentException notFound(String vm) {
        return new AgentException(Kind.NOT_FOUND, "vm '" + vm + "' not found");
    }
}
