package io.idemlog.server.group;

import java.io.IOException;
import java.util.Map;

/**
 * Where the coordinator records committed offsets: a log of puts and deletes keyed by (group, topic, partition).
 * Appends are made durable together by {@link #sync()} (the coordinator thread calls it once per batch of work: a
 * group commit); an answer that depends on an append is given only through {@link #whenDurable}. Replaying the
 * records in order (after the latest snapshot) gives back exactly the same offsets: the apply is deterministic.
 * Coordinator thread only.
 */
public interface OffsetJournal extends AutoCloseable {
    /** Every offset recorded so far, by group (for the coordinator's start). */
    Map<String, Map<TopicPartition, OffsetValue>> load() throws IOException;

    void put(String group, TopicPartition tp, OffsetValue value);

    void delete(String group, TopicPartition tp);

    /**
     * Runs {@code action} once everything appended so far is durable (true) or can never be (false: the journal
     * failed); at once when nothing is pending.
     */
    void whenDurable(DurableAction action);

    /** Makes every append durable and runs the waiting actions. */
    void sync();

    /** Whether appends wait for a {@link #sync()}. */
    boolean hasPending();

    /** Whether the log has grown past what the live state needs (then {@link #compact} is due). */
    default boolean wantsCompaction() {
        return false;
    }

    /**
     * Rewrites the history as one snapshot of {@code state} (the live offsets). Called between batches, with nothing
     * pending; a failure leaves the old history whole.
     */
    default void compact(Map<String, Map<TopicPartition, OffsetValue>> state) {
    }

    @Override
    void close() throws IOException;

    @FunctionalInterface
    interface DurableAction {
        void run(boolean durable);
    }
}
