package io.idemlog.server.handler;

import io.idemlog.common.record.RecordBatch;

import java.nio.ByteBuffer;

/**
 * One connection's memory of the idempotent batches it was refused before any append (NOT_LEADER_OR_FOLLOWER,
 * NOT_ENOUGH_REPLICAS), so that a later batch of the same producer for the same partition, already in flight behind
 * the refused one, is refused too instead of being appended ahead of it.
 *
 * <p>Why (found by ClusterRecordDeletionTest, 2026-12-07): a new cluster leader refused a producer's first batch
 * (sequence 0) because its topic settings were not applied yet, and accepted the batch at sequence 144 pipelined
 * 3 ms behind it: the producer was unknown, and an unknown producer's batch is accepted at any sequence (IDEMPOTENCE.md
 * rule 7, KIP-360). The retry of sequence 0 then preceded the retained batches and was refused OUT_OF_ORDER until the
 * client's delivery timeout, 2 minutes later: records 0-143 never landed. Any refusal that can turn into acceptance
 * between two pipelined requests (a leader becoming ready, min.insync.replicas satisfied again) opens the same gap.
 * A client answered with such an error re-sends from the refused batch, in sequence order; so the fence holds until
 * a batch of that producer at or below the refused sequence arrives (the retry), the producer's epoch changes, or
 * {@link #LIFETIME_NANOS} passes (the retry went to another node: nothing still in flight behind the refusal is
 * that old).
 *
 * <p>Connection thread only; a handful of entries at most (linear scan, arrays reused, no allocation per batch when
 * nothing is fenced).
 */
final class ProduceFence {
    static final long LIFETIME_NANOS = 2_000_000_000L;

    private String[] topics = new String[4];
    private int[] partitions = new int[4];
    private long[] producerIds = new long[4];
    private short[] epochs = new short[4];
    private int[] sequences = new int[4];
    private long[] sinceNanos = new long[4];
    private int size;

    /**
     * Whether the batch at {@code batch}'s position (a record batch header) must be refused because an earlier batch
     * of the same producer for the same partition was refused on this connection; clears the entry when the batch is
     * the retry (at or below the refused sequence), of another epoch, or the entry has expired. False at once, reading
     * nothing, while nothing is fenced; a batch without a producer id is never fenced.
     */
    boolean blocks(String topic, int partition, ByteBuffer batch) {
        if (size == 0) {
            return false;
        }
        long producerId = producerId(batch);
        int i = producerId < 0 ? -1 : find(topic, partition, producerId);
        if (i < 0) {
            return false;
        }
        int p = batch.position();
        if (epochs[i] != batch.getShort(p + RecordBatch.PRODUCER_EPOCH_OFFSET)
            || batch.getInt(p + RecordBatch.BASE_SEQUENCE_OFFSET) <= sequences[i]
            || System.nanoTime() - sinceNanos[i] > LIFETIME_NANOS) {
            remove(i);
            return false;
        }
        return true;
    }

    /**
     * The batch at {@code batch}'s position was refused before any append: fences what follows it. A batch without a
     * producer id (or too short for a header) is not remembered.
     */
    void refused(String topic, int partition, ByteBuffer batch) {
        long producerId = producerId(batch);
        if (producerId < 0) {
            return;
        }
        int p = batch.position();
        short epoch = batch.getShort(p + RecordBatch.PRODUCER_EPOCH_OFFSET);
        int firstSequence = batch.getInt(p + RecordBatch.BASE_SEQUENCE_OFFSET);
        int i = find(topic, partition, producerId);
        if (i >= 0) {
            if (epochs[i] == epoch && sequences[i] <= firstSequence) {
                return; // already fenced from an earlier sequence
            }
        } else {
            if (size == topics.length) {
                grow();
            }
            i = size++;
        }
        topics[i] = topic;
        partitions[i] = partition;
        producerIds[i] = producerId;
        epochs[i] = epoch;
        sequences[i] = firstSequence;
        sinceNanos[i] = System.nanoTime();
    }

    /** The batch header's producer id; -1 when it has none or the buffer is shorter than a header. */
    static long producerId(ByteBuffer batch) {
        return batch.remaining() < RecordBatch.HEADER_SIZE ? -1L
            : batch.getLong(batch.position() + RecordBatch.PRODUCER_ID_OFFSET);
    }

    private int find(String topic, int partition, long producerId) {
        for (int i = 0; i < size; i++) {
            if (producerIds[i] == producerId && partitions[i] == partition && topics[i].equals(topic)) {
                return i;
            }
        }
        return -1;
    }

    private void remove(int i) {
        int last = --size;
        topics[i] = topics[last];
        partitions[i] = partitions[last];
        producerIds[i] = producerIds[last];
        epochs[i] = epochs[last];
        sequences[i] = sequences[last];
        sinceNanos[i] = sinceNanos[last];
        topics[last] = null;
    }

    private void grow() {
        int n = topics.length * 2;
        topics = java.util.Arrays.copyOf(topics, n);
        partitions = java.util.Arrays.copyOf(partitions, n);
        producerIds = java.util.Arrays.copyOf(producerIds, n);
        epochs = java.util.Arrays.copyOf(epochs, n);
        sequences = java.util.Arrays.copyOf(sequences, n);
        sinceNanos = java.util.Arrays.copyOf(sinceNanos, n);
    }
}
