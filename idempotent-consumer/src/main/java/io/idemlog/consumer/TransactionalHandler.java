package io.idemlog.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.sql.Connection;

/**
 * Applies one record's effect inside the store's database transaction (the transactional mode): the processed id,
 * every statement the handler runs on {@code transaction}, and the consumer's position (topic, partition, next
 * offset) commit together or not at all.
 *
 * <p>Rules: use only {@code transaction} for the effect (another connection is another transaction); do not commit,
 * roll back, close it or change its auto-commit mode (the consumer does that); throw to say "not applied" (everything
 * rolls back, the record is retried). Called on the consumer's thread, in offset order per partition.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 */
@FunctionalInterface
public interface TransactionalHandler<K, V> {
    /** Applies the effect of {@code record} through {@code transaction}; throws if it could not. */
    void handle(ConsumerRecord<K, V> record, Connection transaction) throws Exception;
}
