package dev.ferry.agent.api;

import dev.ferry.pki.Identity;

/** A caller the API turns away: 401 without a client certificate, 403 for one that may not make this call. */
final class AccessDeniedException extends RuntimeException {
    private final int status;
    private final String code;
    private final Identity caller;

    AccessDeniedException(int status, String code, Identity caller, String message) {
        super(message);
        this.status = status;
        this.code = code;
        this.caller = caller;
    }

    int status() {
        return status;
    }

    String code() {
        return code;
    }

    /** Who called, for the log; null when the caller presented no certificate. */
    Identity caller() {
        return caller;
    }
}
