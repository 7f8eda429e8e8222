package io.idemlog.server.handler;

import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogStore;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * What every API handler shares: configuration, storage, identity, the fetch waiters and the counters.
 *
 * @param config     the validated configuration
 * @param logs       every partition, and producer id allocation
 * @param clusterId  the cluster id reported in Metadata
 * @param fetchWaits long-polling fetches waiting for data
 * @param metrics    server counters
 * @param blockingIo the one thread for blocking file work that a request needs (creating or deleting topics,
 *                   fsyncing a producer-id block, ...): a handler hands such work to it with
 *                   {@link #runBlocking} and answers from it (answers may come from any thread), so that an event
 *                   loop never waits for a disk. Tasks run one at a time, in submission order.
 */
public record BrokerContext(ServerConfig config, LogStore logs, String clusterId, FetchWaits fetchWaits,
                            ServerMetrics metrics, Executor blockingIo) {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerContext.class);

    /**
     * Runs a request's blocking part on {@link #blockingIo()}: the pattern for every handler that touches a disk
     * (topic creation, producer-id blocks, admin and group-coordinator file work). {@code work} runs on the
     * idemlog-storage-io thread and must answer {@code ctx} exactly once; the connection still answers its requests
     * in arrival order (later answers on the same connection wait, other connections do not). Long work should be
     * split into several calls, each a short task, so that other connections' tasks interleave with it.
     *
     * <p>Never a silent loss: if {@code work} throws, the error is logged and counted
     * ({@link ServerMetrics#internalErrors}) and the connection is closed, as for an exception on the event loop;
     * if the executor refuses the task (the server is shutting down), the connection is closed.
     *
     * @param what names the work in log lines (no client strings in it: they are escaped by the caller)
     */
    public void runBlocking(RequestContext ctx, String what, Runnable work) {
        try {
            blockingIo.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    metrics.internalErrors.increment();
                    LOG.error("{} for {} failed; closing the connection", what, ctx.remoteAddress(), e);
                    ctx.closeConnection("internal error in " + what);
                }
            });
        } catch (RejectedExecutionException e) {
            ctx.closeConnection("server shutting down: cannot run " + what);
        }
    }
}
