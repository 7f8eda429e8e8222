package io.idemlog.client;

/** A record that can never be sent: larger than {@code max.request.size} or {@code buffer.memory}. */
public final class RecordTooLargeException extends ProducerException {
    private static final long serialVersionUID = 1L;

    public RecordTooLargeException(String message) {
        super(message);
    }
}
