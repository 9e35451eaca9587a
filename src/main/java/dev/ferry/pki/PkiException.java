package dev.ferry.pki;

/** A certificate, key or directory that cannot be made or used; the message names the file and the fix. */
public final class PkiException extends Exception {
    public PkiException(String message) {
        super(message);
    }

    public PkiException(String message, Throwable cause) {
        super(message, cause);
    }
}
