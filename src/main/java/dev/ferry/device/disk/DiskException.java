package dev.ferry.device.disk;

/**
 * A disk operation for migration failed: an image could not be read or created, an NBD export or
 * a mirror job did not behave. The message names the disk, the image or export, and the fix.
 */
public class DiskException extends Exception {
    public DiskException(String message) {
        super(message);
    }

    public DiskException(String message, Throwable cause) {
        super(message, cause);
    }
}
