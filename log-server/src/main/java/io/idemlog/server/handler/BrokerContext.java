package io.idemlog.server.handler;

import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogStore;

/**
 * What every API handler shares: configuration, storage, identity, the fetch waiters and the counters.
 *
 * @param config     the validated configuration
 * @param logs       every partition, and producer id allocation
 * @param clusterId  the cluster id reported in Metadata
 * @param fetchWaits long-polling fetches waiting for data
 * @param metrics    server counters
 */
public record BrokerContext(ServerConfig config, LogStore logs, String clusterId, FetchWaits fetchWaits,
                            ServerMetrics metrics) {
}
