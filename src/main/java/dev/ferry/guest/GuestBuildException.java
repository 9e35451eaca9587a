package dev.ferry.guest;

/** The test guest could not be built; the message names what was missing and how to get it. */
public class GuestBuildException extends Exception {
    public GuestBuildException(String message) {
        super(message);
    }

    public GuestBuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
