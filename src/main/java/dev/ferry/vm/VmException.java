package dev.ferry.vm;

/** A VM operation that failed; the message names the VM and what to do. */
public class VmException extends Exception {
    public VmException(String message) {
        super(message);
    }

    public VmException(String message, Throwable cause) {
        super(message, cause);
    }
}
