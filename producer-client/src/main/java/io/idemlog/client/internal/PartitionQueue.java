package io.idemlog.client.internal;

import io.idemlog.common.record.RecordBatchBuilder;

import java.util.ArrayDeque;

/**
 * The batches of one topic-partition not yet handed to the sender, oldest first; the last one may still be open
 * (being filled through {@link #builder}). Guarded by its own monitor: application threads append, the I/O thread
 * drains and expires.
 *
 * <p>{@link #state} (the partition's producer id, epoch, sequences and sent-but-unanswered batches) belongs to
 * the I/O thread alone and is not guarded.
 */
public final class PartitionQueue {
    public final String topic;
    public final int partition;
    /** Guarded by this. */
    final ArrayDeque<ProducerBatch> batches = new ArrayDeque<>();
    /** Guarded by this; builds the open batch, if any (the last of {@link #batches}). */
    final RecordBatchBuilder builder = new RecordBatchBuilder();
    /** I/O thread only. */
    public final PartitionProducerState state;

    PartitionQueue(String topic, int partition, PartitionProducerState state) {
        this.topic = topic;
        this.partition = partition;
        this.state = state;
    }

    /** The open batch, or null. Caller holds the lock. */
    ProducerBatch openBatch() {
        ProducerBatch last = batches.peekLast();
        return last != null && !last.isSealed() ? last : null;
    }

    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
