package io.idemlog.client.internal;

import io.idemlog.common.protocol.ErrorCode;

/**
 * What the producer does about a partition-level error code in a Produce answer. Derived from the one error table,
 * {@link ErrorCode}: the codes with a meaning of their own for an idempotent producer are named here; every other
 * code follows from its entry's {@link ErrorCode#retriable} and {@link ErrorCode#refreshesMetadata} flags, as in
 * Kafka's Errors.java. A code the table does not know is not retriable (Kafka: UnknownServerException).
 */
public final class ProduceErrors {
    /** The reaction to one code. */
    public enum Action {
        /** Written; the answer carries the (original, for a duplicate) base offset. */
        SUCCESS,
        /** DUPLICATE_SEQUENCE_NUMBER (old Kafka only): written before, offset unknown. */
        DUPLICATE,
        /** Transient: send the same batch again after the backoff. */
        RETRY,
        /** Transient and the leader may have moved: refresh metadata, then retry. */
        RETRY_REFRESH_METADATA,
        /** OUT_OF_ORDER_SEQUENCE_NUMBER: retry behind an earlier pending batch, else the batch is dead. */
        OUT_OF_ORDER,
        /** UNKNOWN_PRODUCER_ID (old Kafka only): the server lost this producer's state; the batch is dead. */
        UNKNOWN_PRODUCER,
        /** The producer is fenced or not authorized: nothing it sends can succeed any more. */
        FATAL,
        /** The batch can never be written (too large, invalid, ...); other batches are not affected. */
        FAIL
    }

    private ProduceErrors() {
    }

    public static Action classify(short code) {
        ErrorCode error = ErrorCode.forCode(code);
        if (!ErrorCode.isKnown(code)) {
            return Action.FAIL;
        }
        return switch (error) {
            case NONE -> Action.SUCCESS;
            case DUPLICATE_SEQUENCE_NUMBER -> Action.DUPLICATE;
            case OUT_OF_ORDER_SEQUENCE_NUMBER -> Action.OUT_OF_ORDER;
            case UNKNOWN_PRODUCER_ID -> Action.UNKNOWN_PRODUCER;
            case INVALID_PRODUCER_EPOCH, PRODUCER_FENCED, TOPIC_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED,
                 TRANSACTIONAL_ID_AUTHORIZATION_FAILED -> Action.FATAL;
            default -> error.retriable ? (error.refreshesMetadata ? Action.RETRY_REFRESH_METADATA : Action.RETRY)
                : Action.FAIL;
        };
    }
}
