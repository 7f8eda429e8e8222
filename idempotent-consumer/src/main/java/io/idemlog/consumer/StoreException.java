package io.idemlog.consumer;

/**
 * The processed-id store could not answer: the database is unreachable, a lock wait timed out, a commit failed.
 * The consumer treats it as "nothing happened": it rolls back, keeps its position on the record and retries with
 * back-off, without counting an attempt against the record (the record is not at fault).
 */
public class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A failure described by {@code message}, caused by {@code cause} (may be null). */
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
