package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.metadata.TopicConfig;
import io.idemlog.server.metadata.TopicConfigDef;

import java.io.IOException;
import java.util.Map;
import java.util.UUID;

/**
 * Every partition of the server, its topics, and producer id allocation: what the request handlers need from
 * storage. Thread-safe.
 */
public interface LogStore extends AutoCloseable {
    /** The partition, or null when the topic or partition does not exist. */
    Partition partition(String topic, int index);

    /** Number of partitions of the topic, or -1 when it does not exist. */
    int partitionCount(String topic);

    /** Every topic and its partition count. */
    Map<String, Integer> topics();

    /**
     * Creates a topic with {@code partitions} partitions (directories and empty logs) if it does not exist yet.
     * Returns the partition count of the topic as it now is (the existing count if it already existed). By default
     * {@link #createTopic(String, int, Map, boolean)} with no overrides, an existing topic answered with its count.
     *
     * @throws IllegalArgumentException when the topic cannot be created (its AdminException's message)
     */
    default int createTopic(String topic, int partitions) throws IOException {
        try {
            createTopic(topic, partitions, Map.of(), false);
            return partitions;
        } catch (AdminException e) {
            if (e.error() == ErrorCode.TOPIC_ALREADY_EXISTS) {
                int n = partitionCount(topic);
                if (n >= 0) {
                    return n;
                }
            }
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /**
     * Creates a topic with its topic-level config overrides, durably (the metadata record is fsync'd before the
     * directories are made). With {@code validateOnly} only checks, and returns null.
     *
     * @return the new topic's id
     * @throws AdminException INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, TOPIC_ALREADY_EXISTS, INVALID_CONFIG
     */
    default UUID createTopic(String topic, int partitions, Map<String, String> configs, boolean validateOnly)
        throws IOException, AdminException {
        throw new UnsupportedOperationException("topic admin is not supported by this store");
    }

    /**
     * {@link #createTopic(String, int, Map, boolean)} with a replication factor: -1 is the store's default; a
     * single node accepts -1 and 1 only.
     *
     * @throws AdminException also INVALID_REPLICATION_FACTOR (below 1 or above {@link #maxReplicationFactor()})
     */
    default UUID createTopic(String topic, int partitions, int replicationFactor, Map<String, String> configs,
                             boolean validateOnly) throws IOException, AdminException {
        if (replicationFactor != -1 && replicationFactor != 1) {
            throw new AdminException(io.idemlog.common.protocol.ErrorCode.INVALID_REPLICATION_FACTOR,
                "Unable to replicate the partition " + replicationFactor + " time(s): The target replication "
                    + "factor of " + replicationFactor + " cannot be reached because only 1 broker(s) are registered.");
        }
        return createTopic(topic, partitions, configs, validateOnly);
    }

    /** The largest replication factor a new topic may have: the brokers a replica can be placed on (1 here). */
    default int maxReplicationFactor() {
        return 1;
    }

    /** The topic's replication factor, or -1 when it does not exist. */
    default int replicationFactor(String topic) {
        return partitionCount(topic) < 0 ? -1 : 1;
    }

    /**
     * Deletes a topic: durably decided, gone from lookups at once, producer state dropped, appends in flight answered
     * KAFKA_STORAGE_ERROR, files removed after log.segment.delete.delay.ms (fetches in flight finish reading them).
     * Fires {@link TopicLifecycleListener#onTopicDeleted}.
     *
     * @throws AdminException UNKNOWN_TOPIC_OR_PARTITION
     */
    default void deleteTopic(String topic) throws IOException, AdminException {
        throw new UnsupportedOperationException("topic admin is not supported by this store");
    }

    /**
     * Grows a topic to {@code totalCount} partitions.
     *
     * @throws AdminException UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (not more than now)
     */
    default void createPartitions(String topic, int totalCount, boolean validateOnly)
        throws IOException, AdminException {
        throw new UnsupportedOperationException("topic admin is not supported by this store");
    }

    /**
     * Replaces a topic's config overrides by {@code overrides} (the caller merges incremental changes) and applies
     * them to its partitions.
     *
     * @throws AdminException UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG
     */
    default void alterTopicConfig(String topic, Map<String, String> overrides, boolean validateOnly)
        throws IOException, AdminException {
        throw new UnsupportedOperationException("topic admin is not supported by this store");
    }

    /**
     * DeleteRecords: moves the partition's log start offset to {@code offset} (-1: the high watermark), durably
     * before it returns; records below it are no longer served and the segments entirely below it are removed
     * after log.segment.delete.delay.ms. The producer state is kept. An offset at or below the current start
     * changes nothing. Blocking (an fsync): call it off the event loops.
     *
     * @return the log start offset now (the low watermark)
     * @throws AdminException UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE (above the high watermark, or
     *                        negative other than -1)
     * @throws IOException    the partition is offline, or the file cannot be written (KAFKA_STORAGE_ERROR)
     */
    default long deleteRecords(String topic, int partition, long offset) throws IOException, AdminException {
        throw new UnsupportedOperationException("DeleteRecords is not supported by this store");
    }

    /** The topic's id, or null when it does not exist (or the store keeps no ids). */
    default UUID topicId(String topic) {
        return null;
    }

    /** The name of the topic with this id, or null. */
    default String topicName(UUID id) {
        return null;
    }

    /** The topic's effective configuration, or null when it does not exist. */
    default TopicConfig topicConfig(String topic) {
        return null;
    }

    /** What a topic with these overrides would have as its effective configuration (not validated). */
    default TopicConfig newTopicConfig(Map<String, String> overrides) {
        return new TopicConfig(topicConfigDef(), overrides, TopicConfigDef.BrokerDefaults.NONE);
    }

    /** The table of topic config keys this store validates against. */
    default TopicConfigDef topicConfigDef() {
        return TopicConfigDef.STANDARD;
    }

    /** Sets the broker side of the topic config defaults (see {@link TopicConfigDef.BrokerDefaults}). */
    default void setBrokerDefaults(TopicConfigDef.BrokerDefaults defaults) {
    }

    /** Who to tell when topics are created, grown or deleted (one listener; null = nobody). */
    default void setTopicLifecycleListener(TopicLifecycleListener listener) {
    }

    /**
     * A producer id never handed out before, also across crashes: ids are reserved in blocks whose high-water
     * mark is fsync'd before any id of the block is used.
     */
    long nextProducerId() throws IOException;

    /**
     * The stable identity of a named producer (docs/DEDUP.md "Stable producer identity"): the same producer id as
     * its earlier incarnations, at an epoch above any they can have used; durable before it returns. Null when
     * this store does not keep identities (the caller then treats the name as unknown to the server).
     */
    default io.idemlog.server.state.ProducerIdentities.Identity initNamedProducer(String name) throws IOException {
        return null;
    }

    /**
     * The lowest epoch a batch of this producer id may carry, or -1 when the id is not a named producer's (a lower
     * epoch is a fenced incarnation: INVALID_PRODUCER_EPOCH). No lock, no allocation.
     */
    default long namedProducerEpoch(long producerId) {
        return -1L;
    }

    /** The storage counters (damage found on read, storage errors, seals, ...). */
    default StorageMetrics metrics() {
        return new StorageMetrics();
    }

    /** Clean shutdown: flush, write producer state snapshots, close files. */
    @Override
    void close() throws IOException;
}
