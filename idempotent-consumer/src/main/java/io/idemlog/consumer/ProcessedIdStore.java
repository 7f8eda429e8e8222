package io.idemlog.consumer;

import java.time.Duration;

/**
 * Remembers which record ids were processed, for a time window and up to a bound on their number.
 *
 * <p>The one operation is {@link StoreTransaction#insertIfAbsent}, inside a {@linkplain #begin() transaction}, with
 * the semantics of a unique key in a database: of two transactions that insert the same (scope, id), exactly one
 * gets {@code true}; the other waits until the first ends and then gets {@code false} if it committed,
 * {@code true} if it rolled back. An id is remembered from its commit until the window after its insert time has
 * passed (then it counts as new again) or until the bound evicts it (oldest first); a rolled-back insert leaves
 * nothing behind. Every implementation passes the same contract suite (ProcessedIdStoreContract in the tests).
 *
 * <p>Implementations: {@link MemoryProcessedIdStore} (one JVM, not durable) and {@link JdbcProcessedIdStore}
 * (PostgreSQL, H2, or any JDBC database with a dialect; required for the transactional mode). Thread-safe: many
 * consumers may share one store, each transaction is used by one thread.
 */
public interface ProcessedIdStore extends AutoCloseable {
    /**
     * Starts a transaction.
     *
     * @throws StoreException if the store is unavailable
     */
    StoreTransaction begin();

    /**
     * Deletes ids older than the window, then the oldest ids beyond the bound; returns how many it deleted. Safe to
     * call while transactions run (it never holds a lock they wait for for long); stores that have a purge thread
     * call it themselves.
     *
     * @throws StoreException if the store is unavailable
     */
    long purge();

    /**
     * The number of ids stored (committed ones; expired ids not yet purged included).
     *
     * @throws StoreException if the store is unavailable
     */
    long size();

    /** How long an id is remembered after it was inserted. */
    Duration window();

    /** The bound on stored ids (the purge keeps the number at or below it; memory: at every insert). */
    long maxIds();

    /** Stops the store's own threads and releases its resources; open transactions should be ended first. */
    @Override
    void close();
}
