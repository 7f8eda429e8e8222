package io.idemlog.client;

/**
 * The server rejected a batch with an error that retrying cannot fix (for example MESSAGE_TOO_LARGE or
 * INVALID_RECORD), or the partition's sequence could not be continued after an earlier batch failed.
 */
public final class ProduceFailedException extends ProducerException {
    private static final long serialVersionUID = 1L;

    private final short errorCode;
    private final boolean mayHaveBeenWritten;

    public ProduceFailedException(String message, short errorCode, boolean mayHaveBeenWritten) {
        super(message);
        this.errorCode = errorCode;
        this.mayHaveBeenWritten = mayHaveBeenWritten;
    }

    /** The Kafka wire error code the server answered, or -1 when the failure was decided by the client. */
    public short errorCode() {
        return errorCode;
    }

    @Override
    public boolean mayHaveBeenWritten() {
        return mayHaveBeenWritten;
    }
}
