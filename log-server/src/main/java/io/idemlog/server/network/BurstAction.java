package io.idemlog.server.network;

/**
 * Work a handler defers to the end of a read burst ({@link RequestContext#afterReadBurst}), run once per key. It
 * gets the key, so that it can be a constant (no allocation per call), and how many keys the burst deferred work
 * for, so that it can choose by the burst's breadth (the produce handler fsyncs inline when its burst appended to a
 * single partition, and hands many partitions to the flusher: log.flush.thread=auto).
 *
 * @param <K> the key's type
 */
@FunctionalInterface
public interface BurstAction<K> {

    /**
     * @param key          the key it was deferred with
     * @param keysInBurst  how many distinct keys the burst deferred work for when this runs (at least 1; work
     *                     deferred by another burst action while they run counts from then on)
     */
    void run(K key, int keysInBurst);
}
