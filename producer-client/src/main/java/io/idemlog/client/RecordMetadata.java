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
 */
public record RecordMetadata(String topic, int partition, long offset, long timestamp) {
}
