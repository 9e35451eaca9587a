package dev.ferry.qmp;

/** The QMP connection is closed (QEMU exited or the client was closed); nothing more can be sent. */
public class QmpClosedException extends QmpException {
    public QmpClosedException(String message) {
        super(message);
    }

    public QmpClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
