package io.idemlog.server.metadata;

import io.idemlog.common.protocol.ErrorCode;

/**
 * A topic admin request refused for a reason the client is told: the Kafka error code (TOPIC_ALREADY_EXISTS,
 * INVALID_PARTITIONS, INVALID_CONFIG, ...) and a message that names what is wrong.
 */
public final class AdminException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient ErrorCode error;

    public AdminException(ErrorCode error, String message) {
        super(message);
        this.error = error;
    }

    public ErrorCode error() {
        return error;
    }
}
