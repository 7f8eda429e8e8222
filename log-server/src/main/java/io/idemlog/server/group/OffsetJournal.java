package io.idemlog.server.group;

import java.io.IOException;
import java.util.Map;

/**
 * Where the coordinator records committed offsets: a log of puts and deletes keyed by (group, topic, partition),
 * and, per group, the {@link GroupRecord} that offset expiry needs after a restart (the group's protocol type and
 * since when it is Empty).
 * Appends are made durable together by {@link #sync()} (the coordinator thread calls it once per batch of work: a
 * group commit); an answer that depends on an append is given only through {@link #whenDurable}. Replaying the
 * records in order (after the latest snapshot) gives back exactly the same offsets: the apply is deterministic.
 * Coordinator thread only.
 */
public interface OffsetJournal extends AutoCloseable {
    /** Every offset recorded so far, by group (for the coordinator's start). */
    Map<String, Map<TopicPartition, OffsetValue>> load() throws IOException;

    /** The group records found by the last {@link #load()} (groups without one never had members). */
    Map<String, GroupRecord> loadedGroups();

    void put(String group, TopicPartition tp, OffsetValue value);

    void delete(String group, TopicPartition tp);

    /** Records (replaces) what a group's offset expiry depends on. */
    void putGroup(String group, GroupRecord record);

    /** The group is gone (deleted, or expired): its record goes too. */
    void deleteGroup(String group);

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
     * Rewrites the history as one snapshot of {@code offsets} (the live offsets) and {@code groups} (the live group
     * records). Called between batches, with nothing pending; a failure leaves the old history whole.
     */
    default void compact(Map<String, Map<TopicPartition, OffsetValue>> offsets, Map<String, GroupRecord> groups) {
    }

    @Override
    void close() throws IOException;

    /**
     * What a group's offset expiry depends on besides its offsets (Kafka keeps it in its group metadata record).
     *
     * @param protocolType the protocol type of its members ("consumer", ...); a group without a record never had any
     * @param emptySinceMs when it became Empty (its offsets' retention counts from then), or -1 while it has members
     */
    record GroupRecord(String protocolType, long emptySinceMs) {
    }

    @FunctionalInterface
    interface DurableAction {
        void run(boolean durable);
    }
}
