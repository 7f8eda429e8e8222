package io.idemlog.consumer;

/**
 * One unit of work against a {@link ProcessedIdStore}: inserts become visible to others at {@link #commit()}, and
 * vanish at {@link #rollback()}. Used by one thread; {@link #close()} rolls back what was not committed.
 */
public interface StoreTransaction extends AutoCloseable {
    /**
     * Inserts (scope, id) unless it is already stored and unexpired.
     *
     * @param scope what is being de-duplicated (one application's handler), at most 255 characters
     * @param id    the record's key, at most {@link KeyExtractor#MAX_KEY_BYTES} bytes
     * @param nowMs the insert time (epoch milliseconds, the consumer's clock); the id expires at nowMs + window
     * @return true if it was absent (the caller applies the effect), false if it is a duplicate
     * @throws StoreException if the store is unavailable or a wait for a concurrent insert of the same id timed out
     */
    boolean insertIfAbsent(String scope, byte[] id, long nowMs);

    /**
     * Makes this transaction's inserts durable and visible.
     *
     * @throws StoreException if the commit failed. Its outcome may be unknown (a connection that broke after the
     *                        database committed): a retry finds out, as {@link #insertIfAbsent} then answers false
     */
    void commit();

    /** Discards this transaction's inserts. Never throws: a broken connection has rolled back already. */
    void rollback();

    /** Rolls back unless committed, and releases the transaction's resources. */
    @Override
    void close();
}
