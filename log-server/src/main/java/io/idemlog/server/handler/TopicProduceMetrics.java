package io.idemlog.server.handler;

import io.idemlog.common.protocol.ErrorCode;

import java.util.concurrent.atomic.LongAdder;

/**
 * Produce outcomes of one existing topic (docs/OPERATIONS.md, {@code idemlog_produce_batches_total{topic,outcome}}):
 * one object per topic, made on its first produce and cached in {@link ServerMetrics#topic}, so that counting a
 * batch is a map lookup by the (already hashed) topic name and an increment: no allocation per batch or record.
 */
public final class TopicProduceMetrics {
    /** The outcomes a produced batch can have, as the {@code outcome} tag names them. */
    public enum Outcome {
        /** Appended (new data). */
        APPENDED("appended"),
        /** A retry of a batch already in the log, answered with the original offsets, nothing appended. */
        DUPLICATE("duplicate"),
        /** OUT_OF_ORDER_SEQUENCE_NUMBER (a gap or a sequence the producer state cannot place). */
        OUT_OF_ORDER("out_of_order"),
        /** INVALID_PRODUCER_EPOCH / PRODUCER_FENCED: an older epoch of a producer id wrote. */
        FENCED("fenced"),
        /** CORRUPT_MESSAGE / INVALID_RECORD: CRC, framing or record validation failed; nothing appended. */
        CORRUPT("corrupt"),
        /** KAFKA_STORAGE_ERROR: the write or its fsync failed (the partition is offline). */
        STORAGE_ERROR("storage_error"),
        /** Any other error code (too large, unknown producer id, unsupported compression, timeout ...). */
        OTHER_ERROR("other_error");

        public final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }

        /** The outcome of a batch answered with {@code error} (NONE: appended). */
        public static Outcome of(ErrorCode error) {
            return switch (error) {
                case NONE -> APPENDED;
                case OUT_OF_ORDER_SEQUENCE_NUMBER -> OUT_OF_ORDER;
                case INVALID_PRODUCER_EPOCH, PRODUCER_FENCED -> FENCED;
                case CORRUPT_MESSAGE, INVALID_RECORD -> CORRUPT;
                case KAFKA_STORAGE_ERROR -> STORAGE_ERROR;
                default -> OTHER_ERROR;
            };
        }
    }

    private static final Outcome[] OUTCOMES = Outcome.values();

    public final String topic;
    private final LongAdder[] batches = new LongAdder[OUTCOMES.length];
    /** Records appended (duplicates not counted). */
    public final LongAdder recordsAppended = new LongAdder();
    /** Records not stored because their de-duplication key was stored within the window (docs/DEDUP.md). */
    public final LongAdder recordsDeduplicated = new LongAdder();
    /** Bytes of batches appended (duplicates not counted). */
    public final LongAdder bytesAppended = new LongAdder();

    TopicProduceMetrics(String topic) {
        this.topic = topic;
        for (int i = 0; i < batches.length; i++) {
            batches[i] = new LongAdder();
        }
    }

    void count(Outcome outcome) {
        batches[outcome.ordinal()].increment();
    }

    /** The counter of batches with this outcome. */
    public LongAdder batches(Outcome outcome) {
        return batches[outcome.ordinal()];
    }
}
