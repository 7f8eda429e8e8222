package io.idemlog.client;

/**
 * The producer can no longer send: it was fenced (INVALID_PRODUCER_EPOCH, PRODUCER_FENCED), is not authorized,
 * or the server does not support a required protocol version. Reported on every pending record and on every later
 * send(); the producer must be closed.
 */
public final class FatalProducerException extends ProducerException {
    private static final long serialVersionUID = 1L;

    private final short errorCode;

    public FatalProducerException(String message, short errorCode) {
        super(message);
        this.errorCode = errorCode;
    }

    /** The Kafka wire error code that made the producer fail, or -1 when the client decided. */
    public short errorCode() {
        return errorCode;
    }

    @Override
    public boolean mayHaveBeenWritten() {
        // Batches in flight when the fatal answer came may have been written.
        return true;
    }
}
