package io.idemlog.server.handler;

import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogStore;

import java.util.concurrent.Executor;

/**
 * What every API handler shares: configuration, storage, identity, the fetch waiters and the counters.
 *
 * @param config     the validated configuration
 * @param logs       every partition, and producer id allocation
 * @param clusterId  the cluster id reported in Metadata
 * @param fetchWaits long-polling fetches waiting for data
 * @param metrics    server counters
 * @param blockingIo the one thread for blocking file work that a request needs (creating or deleting topics,
 *                   fsyncing a producer-id block, ...): a handler hands such work to it and answers from it
 *                   (answers may come from any thread), so that an event loop never waits for a disk. Tasks run
 *                   one at a time, in submission order.
 */
public record BrokerContext(ServerConfig config, LogStore logs, String clusterId, FetchWaits fetchWaits,
                            ServerMetrics metrics, Executor blockingIo) {
}
