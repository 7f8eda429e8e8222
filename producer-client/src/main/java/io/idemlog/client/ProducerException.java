package io.idemlog.client;

/**
 * Base of every exception the producer reports, on a future, to a callback, or thrown by a method. The subclass
 * says whether the records may have been written ({@link #mayHaveBeenWritten()}): a caller that re-sends after a
 * failure that may have been written can create a duplicate.
 */
public class ProducerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProducerException(String message) {
        super(message);
    }

    public ProducerException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * True when the records this exception is reported for may be in the log even though the send failed (the
     * batch was sent and its answer never came). False when they are known not to have been written.
     */
    public boolean mayHaveBeenWritten() {
        return false;
    }
}
