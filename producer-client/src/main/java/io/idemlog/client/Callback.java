package io.idemlog.client;

/**
 * Told the result of one record. Runs on the producer's I/O thread: it must return quickly and must not block
 * (a slow callback delays every other record's acknowledgement and retries).
 */
@FunctionalInterface
public interface Callback {
    /**
     * @param metadata  where the record landed, or null on failure
     * @param exception null on success, else the reason (a {@link ProducerException})
     */
    void onCompletion(RecordMetadata metadata, ProducerException exception);
}
