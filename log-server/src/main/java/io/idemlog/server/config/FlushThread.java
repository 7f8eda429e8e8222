package io.idemlog.server.config;

/**
 * log.flush.thread: which thread starts the group commit (the fsync) that an acks=all answer waits for. Each network
 * thread decides once per read burst (every request of one socket read), for the partitions the burst appended to.
 */
public enum FlushThread {
    /** The network thread that read the burst fsyncs each of its partitions, at the burst's end. */
    NETWORK,
    /** The flusher thread, woken once per partition at the burst's end; the network thread reads on. */
    FLUSHER,
    /**
     * NETWORK when the burst appended acks=all batches to one partition (no hand-off, one fsync), FLUSHER when to
     * more than one (the fsyncs overlap further reading instead of stopping it once per partition).
     */
    AUTO
}
