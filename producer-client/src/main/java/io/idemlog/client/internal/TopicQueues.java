package io.idemlog.client.internal;

import java.util.Arrays;

/**
 * The partition queues of one topic, indexed by partition, and the topic's sticky partition for records
 * without a key. Queues are created on first use; the array only grows (a partition count never shrinks).
 */
final class TopicQueues {
    final String name;
    private volatile PartitionQueue[] partitions = new PartitionQueue[0];
    /** Where records without key go until the batch they fill is closed (KIP-480); -1 before the first. */
    volatile int stickyPartition = -1;

    TopicQueues(String name) {
        this.name = name;
    }

    /** The queue of a partition, or null when it was never used. Lock-free. */
    PartitionQueue get(int partition) {
        PartitionQueue[] p = partitions;
        return partition < p.length ? p[partition] : null;
    }

    /** Creates the queue of a partition; the caller (the accumulator) serializes creation. */
    PartitionQueue create(int partition, PartitionQueue queue) {
        PartitionQueue[] p = partitions;
        if (partition >= p.length) {
            p = Arrays.copyOf(p, partition + 1);
        } else {
            p = p.clone();
        }
        p[partition] = queue;
        partitions = p;
        return queue;
    }
}
