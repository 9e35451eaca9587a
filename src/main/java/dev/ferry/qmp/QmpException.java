package dev.ferry.qmp;

/** A QMP operation that failed; the message names the command and, where it helps, the socket. */
public class QmpException extends Exception {
    public QmpException(String message) {
        super(message);
    }

    public QmpException(String message, Throwable cause) {
        super(message, cause);
    }
}
