package io.idemlog.client.internal;

/**
 * What the producer does about a partition-level error code in a Produce answer. Works on raw wire codes so that
 * codes the common {@code ErrorCode} enum does not list (Kafka has 100+) are still classified as Kafka does.
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
        return switch (code) {
            case 0 -> Action.SUCCESS;
            case 46 -> Action.DUPLICATE;
            case 45 -> Action.OUT_OF_ORDER;
            case 59 -> Action.UNKNOWN_PRODUCER;
            // INVALID_PRODUCER_EPOCH, PRODUCER_FENCED, TOPIC_/CLUSTER_/TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            case 47, 90, 29, 31, 53 -> Action.FATAL;
            // UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR,
            // FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_ID
            case 3, 5, 6, 56, 74, 75, 100 -> Action.RETRY_REFRESH_METADATA;
            // CORRUPT_MESSAGE (a bad network copy), REQUEST_TIMED_OUT, NETWORK_EXCEPTION, coordinator states,
            // NOT_ENOUGH_REPLICAS(_AFTER_APPEND), THROTTLING_QUOTA_EXCEEDED
            case 2, 7, 13, 14, 15, 16, 19, 20, 89 -> Action.RETRY;
            default -> Action.FAIL;
        };
    }
}
