package io.idemlog.common.protocol;

/**
 * Malformed wire input: a truncated body, a negative length, a count larger than the bytes that follow, an
 * unsupported version. Thrown by the codec; the network layer answers it by closing the connection, as Kafka does.
 */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
