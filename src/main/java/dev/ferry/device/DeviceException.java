package dev.ferry.device;

/** A device step that failed; the message is the device's own words (a tool's error line, QEMU's error). */
public final class DeviceException extends Exception {
    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
