package io.idemlog.server.log;

import java.io.IOException;
import java.util.Map;

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
     * Returns the partition count of the topic as it now is (the existing count if it already existed).
     */
    int createTopic(String topic, int partitions) throws IOException;

    /**
     * A producer id never handed out before, also across crashes: ids are reserved in blocks whose high-water
     * mark is fsync'd before any id of the block is used.
     */
    long nextProducerId() throws IOException;

    /** The storage counters (damage found on read, storage errors, seals, ...). */
    default StorageMetrics metrics() {
        return new StorageMetrics();
    }

    /** Clean shutdown: flush, write producer state snapshots, close files. */
    @Override
    void close() throws IOException;
}
