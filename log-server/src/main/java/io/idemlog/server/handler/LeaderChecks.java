package io.idemlog.server.handler;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;

/**
 * The checks every partition-addressed read or write runs before any work (docs/REPLICATION.md sections 4.5, 4.6):
 * this node must lead the partition, and the client's {@code current_leader_epoch} (Fetch v9+, ListOffsets v4+,
 * OffsetForLeaderEpoch v2+) must be the partition's epoch. Allocation-free (the produce and fetch paths call it per
 * partition).
 *
 * <p>Order: leadership first, then the epoch. Kafka's broker checks the epoch first; the difference shows only on a
 * node that is not the leader, where both answers are retriable and make every client refresh its metadata.
 */
final class LeaderChecks {
    /** {@code current_leader_epoch} meaning "no check" (Kafka's RecordBatch.NO_PARTITION_LEADER_EPOCH). */
    static final int NO_EPOCH = -1;

    private LeaderChecks() {
    }

    /** NOT_LEADER_OR_FOLLOWER unless this node leads {@code partition}; else NONE. */
    static ErrorCode leader(Partition partition) {
        return partition.role() == PartitionRole.LEADER ? ErrorCode.NONE : ErrorCode.NOT_LEADER_OR_FOLLOWER;
    }

    /**
     * {@link #leader}, then {@code currentLeaderEpoch} against the partition's epoch: -1 no check; lower
     * FENCED_LEADER_EPOCH (the client's metadata is older than ours); higher UNKNOWN_LEADER_EPOCH (ours is older
     * than the client's). Any other negative value is a lower epoch, as in Kafka.
     */
    static ErrorCode leaderAndEpoch(Partition partition, int currentLeaderEpoch) {
        if (partition.role() != PartitionRole.LEADER) {
            return ErrorCode.NOT_LEADER_OR_FOLLOWER;
        }
        if (currentLeaderEpoch == NO_EPOCH) {
            return ErrorCode.NONE;
        }
        int ours = partition.leaderEpoch();
        if (currentLeaderEpoch < ours) {
            return ErrorCode.FENCED_LEADER_EPOCH;
        }
        return currentLeaderEpoch > ours ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.NONE;
    }
}
