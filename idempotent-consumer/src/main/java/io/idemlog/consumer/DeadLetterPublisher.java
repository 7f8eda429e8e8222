package io.idemlog.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Where a poison record goes after its last failed attempt. {@link #publish} must return only once the record is
 * durably elsewhere (a dead-letter topic acknowledged it): the consumer then records the record's id (and, in the
 * transactional mode, its position) and moves on. If it throws, the consumer stays on the record and tries again
 * after a back-off, so nothing is skipped; a crash between the publish and that record means the dead-letter target
 * may get the record twice (at least once, never zero times).
 *
 * @param <K> the record key type
 * @param <V> the record value type
 */
@FunctionalInterface
public interface DeadLetterPublisher<K, V> {
    /** Publishes {@code record}, which failed {@code attempts} times, the last time with {@code cause}. */
    void publish(ConsumerRecord<K, V> record, Throwable cause, int attempts) throws Exception;
}
