package io.idemlog.server.log;

import java.util.UUID;

/**
 * Told when topics come and go (set with {@link LogStore#setTopicLifecycleListener}). Called after the change is
 * durable in the topic metadata and visible to lookups, on the thread that made it (the storage-io thread for admin
 * requests and auto-creation, the starting thread for create.topics), outside the store's locks; it must not block
 * for long. An exception is logged and otherwise ignored (the change stands).
 */
public interface TopicLifecycleListener {
    TopicLifecycleListener NONE = new TopicLifecycleListener() {
    };

    /** A topic was created (by CreateTopics, auto-creation or create.topics). */
    default void onTopicCreated(String topic, UUID topicId, int partitions) {
    }

    /** The topic now has {@code partitions} partitions (CreatePartitions). */
    default void onPartitionsAdded(String topic, UUID topicId, int partitions) {
    }

    /**
     * A topic was deleted: its partitions no longer exist for lookups, their producer state is gone, and their
     * files are deleted after log.segment.delete.delay.ms. A group coordinator drops the topic's committed offsets
     * here.
     */
    default void onTopicDeleted(String topic, UUID topicId, int partitions) {
    }
}
