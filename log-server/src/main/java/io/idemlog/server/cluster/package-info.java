/**
 * Cluster mode (issue 13, docs/REPLICATION.md): the cluster configuration ({@link io.idemlog.server.cluster.ClusterConfig})
 * and the replicated metadata group on Apache Ratis ({@link io.idemlog.server.cluster.MetadataQuorum},
 * {@link io.idemlog.server.cluster.MetadataStateMachine}, {@link io.idemlog.server.cluster.ClusterImage}). Not wired
 * to the request handlers yet: that needs partition replication, the next step.
 */
package io.idemlog.server.cluster;
