package io.idemlog.client;

/**
 * A time limit passed: {@code max.block.ms} in send() (waiting for metadata or for buffer memory), or
 * {@code delivery.timeout.ms} for a record. In the second case {@link #mayHaveBeenWritten()} tells whether the
 * record's batch had been sent: if it had, the record may be in the log.
 */
public final class ProducerTimeoutException extends ProducerException {
    private static final long serialVersionUID = 1L;

    private final boolean mayHaveBeenWritten;

    public ProducerTimeoutException(String message, boolean mayHaveBeenWritten) {
        super(message);
        this.mayHaveBeenWritten = mayHaveBeenWritten;
    }

    @Override
    public boolean mayHaveBeenWritten() {
        return mayHaveBeenWritten;
    }
}
