package io.idemlog.server.log;

/**
 * What this node is for one partition (docs/REPLICATION.md section 4.6). Only a {@link #LEADER} serves Produce,
 * Fetch, ListOffsets, DeleteRecords and OffsetsForLeaderEpoch; the others answer NOT_LEADER_OR_FOLLOWER (6) before
 * doing any work, so a client refreshes its metadata and goes to the leader. A single node is always the leader.
 */
public enum PartitionRole {
    /** This node leads the partition (a single node always). */
    LEADER,
    /** This node holds a replica that another node leads, or the partition's group has no leader yet. */
    FOLLOWER,
    /** This node cannot serve the partition at all (its replica is not started, or is being removed). */
    OFFLINE
}
