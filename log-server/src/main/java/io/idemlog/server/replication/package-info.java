/**
 * Cluster mode's replicated partitions (docs/REPLICATION.md 4.1-4.4): each partition a Ratis group hosted on the
 * node's one {@code RaftServer} ({@link io.idemlog.server.replication.PartitionGroups}), its state machine
 * ({@link io.idemlog.server.replication.PartitionStateMachine}) the single writer that applies committed batches
 * with the log's deterministic step, and {@link io.idemlog.server.replication.ReplicatedPartition} the
 * {@link io.idemlog.server.log.Partition} the request handlers use.
 */
package io.idemlog.server.replication;
