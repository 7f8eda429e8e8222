package io.idemlog.server.handler;

import io.idemlog.server.group.GroupCoordinatorService;

/**
 * Where the group APIs find the group coordinator. A single node is every group's coordinator ({@link #single});
 * in cluster mode the coordinator is the node leading the replicated offsets group, and it moves with that
 * leadership (io.idemlog.server.cluster.ClusterGroupCoordinator).
 */
public interface GroupCoordinators {
    /** A coordinator's Kafka listener, as FindCoordinator names it. */
    record Endpoint(int nodeId, String host, int port) {
    }

    /** The coordinator running on this node now, or null when this node is not the coordinator (or has none). */
    GroupCoordinatorService local();

    /**
     * Whether the coordinator can move between nodes (cluster mode): then FindCoordinator names {@link #coordinator}
     * and a node that is not the coordinator answers NOT_COORDINATOR.
     */
    boolean clustered();

    /** Cluster mode: the current coordinator's endpoint, or null while the offsets group has no leader. */
    Endpoint coordinator();

    /** This node's own service for every group ({@code service} null: none, the group APIs are unavailable). */
    static GroupCoordinators single(GroupCoordinatorService service) {
        return new GroupCoordinators() {
            @Override
            public GroupCoordinatorService local() {
                return service;
            }

            @Override
            public boolean clustered() {
                return false;
            }

            @Override
            public Endpoint coordinator() {
                return null;
            }
        };
    }
}
