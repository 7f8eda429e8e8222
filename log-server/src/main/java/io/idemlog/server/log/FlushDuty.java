package io.idemlog.server.log;

/**
 * Who starts the group commit that makes an append durable.
 */
public enum FlushDuty {
    /** The flusher thread, woken by the append. */
    FLUSHER,
    /**
     * The appending thread promises to call {@link Partition#flushNow()} soon (e.g. once per burst of pipelined
     * requests); the flusher is not woken for this append. Saves two thread hand-offs on the acks=all path when
     * the flusher is idle. If the promise is not kept, the flusher's periodic tick still makes the append durable.
     */
    CALLER
}
