package dev.ferry.migration;

/**
 * A request about a migration that is refused or could not be carried out. The kind says whose
 * fault it is (the API maps it to a status); the message is meant for the person who asked.
 */
public final class RequestException extends RuntimeException {

    /** Why a request failed. */
    public enum Kind {
        /** No migration (or VM) of that id. */
        NOT_FOUND,
        /** The request contradicts what exists: the VM is not running, the migration already ended. */
        CONFLICT,
        /** The request itself is wrong: a missing or malformed field. */
        INVALID,
        /** The VM spec does not validate; the message names the field. */
        INVALID_SPEC,
        /** A host path the request or its spec names lies outside the roots this host lets VMs use. */
        PATH_NOT_ALLOWED,
        /** QEMU or a backend failed while carrying the request out. */
        FAILED,
        /** A destination that did not take a migrating VM, and never will: the source still owns it. */
        NOT_TAKEN
    }

    private final Kind kind;

    public RequestException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public RequestException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
