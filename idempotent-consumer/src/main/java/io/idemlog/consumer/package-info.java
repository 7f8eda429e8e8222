/**
 * The idempotent consumer: a library over the kafka-clients {@code Consumer} that applies each record's effect once.
 *
 * <ul>
 *   <li>{@link io.idemlog.consumer.IdempotentConsumer}: the wrapper (poll, de-duplicate, handle, record, commit),
 *       in the insert-first or the transactional mode, with retries, back-off and dead-lettering.</li>
 *   <li>{@link io.idemlog.consumer.KeyExtractor}: a record's de-duplication key (header, record key, business key,
 *       position).</li>
 *   <li>{@link io.idemlog.consumer.ProcessedIdStore} / {@link io.idemlog.consumer.StoreTransaction}: the store
 *       contract; {@link io.idemlog.consumer.MemoryProcessedIdStore} and
 *       {@link io.idemlog.consumer.JdbcProcessedIdStore} (with {@link io.idemlog.consumer.SqlDialect}).</li>
 * </ul>
 *
 * <p>Threads: an {@code IdempotentConsumer} and the consumer it wraps are confined to the thread that polls (the
 * handler runs there too); only {@code close()} may come from another thread. Stores are thread-safe and may be
 * shared by several consumers; each {@code StoreTransaction} is used by one thread. {@code JdbcProcessedIdStore}
 * runs its purge on its own daemon thread ({@code idemlog-purge-<table>}), with its own connections.
 * See docs/CONSUMER.md.
 */
package io.idemlog.consumer;
