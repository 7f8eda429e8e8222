package io.idemlog.client;

/** send() after close(), or a record still pending when close(timeout) ran out of time. */
public final class ProducerClosedException extends ProducerException {
    private static final long serialVersionUID = 1L;

    private final boolean mayHaveBeenWritten;

    public ProducerClosedException(String message, boolean mayHaveBeenWritten) {
        super(message);
        this.mayHaveBeenWritten = mayHaveBeenWritten;
    }

    @Override
    public boolean mayHaveBeenWritten() {
        return mayHaveBeenWritten;
    }
}
