/**
 * SPIKE for issue 13, phase 1 (not product code; built only with {@code -P replication-spike}): Apache Ratis
 * embedded in three child JVMs on 127.0.0.1, each partition a Raft group whose state machine applies idemlog's own
 * producer-state check and offset assignment, and the driver that measured docs/REPLICATION.md.
 *
 * <p>What owns what: {@link io.idemlog.spike.ratis.SpikeNode} (a node JVM: one Ratis server, one
 * {@code PartitionStateMachine} per group; Ratis's threads call into it as that class documents);
 * {@link io.idemlog.spike.ratis.SpikeBench} (the driver JVM: {@code SpikeCluster} starts, kills, stops and
 * restarts the nodes, {@code LinkProxy} cuts Raft links, {@code Writers} produce the load, one thread per
 * partition).
 */
package io.idemlog.spike.ratis;
