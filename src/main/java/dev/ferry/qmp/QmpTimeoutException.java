package dev.ferry.qmp;

/** No reply (or no matching event) arrived in time; the connection itself may still be fine. */
public class QmpTimeoutException extends QmpException {
    public QmpTimeoutException(String message) {
        super(message);
    }
}
