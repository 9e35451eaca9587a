package dev.ferry.migration;

/** A failure of the migration machinery itself (QEMU, the peer agent), not of a device step. */
public class MigrationException extends Exception {
    public MigrationException(String message) {
        super(message);
    }

    public MigrationException(String message, Throwable cause) {
        super(message, cause);
    }
}
