package io.idemlog.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Applies one record's effect, outside any store transaction (the insert-first mode): an HTTP call, a write to
 * another system, or a write to a database through a connection of its own.
 *
 * <p>Called on the consumer's thread, once per record the store has not seen, in offset order per partition. While
 * it runs, the record's id is inserted but not committed: a second consumer that gets the same record (after a
 * rebalance) waits for this one to finish, then skips it (or, if this one threw, applies it). Throwing means "not
 * applied": the id is not recorded and the record is retried (see {@link IdempotentConsumer}). The effect must not
 * be half-applied when it throws.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 */
@FunctionalInterface
public interface RecordHandler<K, V> {
    /** Applies the effect of {@code record}; throws if it could not. */
    void handle(ConsumerRecord<K, V> record) throws Exception;
}
