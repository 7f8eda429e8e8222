package io.idemlog.server.state;

/**
 * Receives the entries of a {@link ProducerStateTable}, least recently written first: for each producer one
 * {@link #producer} call followed by {@code batchCount} {@link #batch} calls, oldest batch first. Replaying these
 * calls into {@link ProducerStateTable#update} (each batch with the producer's lastWriteMs) rebuilds an identical
 * table, LRU order included; that is how snapshots are loaded.
 */
public interface ProducerEntryVisitor {
    void producer(long producerId, short epoch, long lastWriteMs, int batchCount);

    void batch(int firstSequence, int lastOffsetDelta, long firstOffset);
}
