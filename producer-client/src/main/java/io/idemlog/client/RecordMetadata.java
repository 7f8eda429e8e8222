package io.idemlog.client;

/**
 * Where an acknowledged record landed.
 *
 * @param topic     the topic
 * @param partition the partition
 * @param offset    the record's offset in the partition; -1 when unknown (acks=0, or an old Kafka broker
 *                  that answered DUPLICATE_SEQUENCE_NUMBER for a retried batch)
 * @param timestamp the server's append time if the topic uses LogAppendTime, else the record's create time
 *                  (milliseconds since the epoch)
 * @param originalOffset de-duplication keys (docs/DEDUP.md): when the record was not stored because its key was
 *                  stored within the topic's window, the offset of that original record (and {@code offset} is
 *                  the hole the record would have had); -1 when the record was stored
 */
public record RecordMetadata(String topic, int partition, long offset, long timestamp, long originalOffset) {
    public RecordMetadata(String topic, int partition, long offset, long timestamp) {
        this(topic, partition, offset, timestamp, -1L);
    }

    /** Whether the record was not stored because its de-duplication key was (see {@link #originalOffset}). */
    public boolean isRepeat() {
        return originalOffset >= 0;
    }
}
