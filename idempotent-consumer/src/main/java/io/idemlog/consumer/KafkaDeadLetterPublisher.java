package io.idemlog.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Publishes poison records to a Kafka topic through a kafka-clients {@link Producer} of the same key and value
 * types (its serializers must match the consumer's deserializers), waiting for the acknowledgement. The record keeps
 * its key, value, timestamp and headers, and gets these headers (values UTF-8 text, except where noted):
 * <ul>
 *   <li>{@code idemlog.dlt.topic}, {@code idemlog.dlt.partition}, {@code idemlog.dlt.offset}: where it came from;</li>
 *   <li>{@code idemlog.dlt.attempts}: how many times the handler failed on it;</li>
 *   <li>{@code idemlog.dlt.exception}, {@code idemlog.dlt.message}: the last failure's class and message (the
 *       message cut to 1,000 characters).</li>
 * </ul>
 * The producer should be idempotent with {@code acks=all}. The publisher does not close it.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 */
public final class KafkaDeadLetterPublisher<K, V> implements DeadLetterPublisher<K, V> {
    /** Header prefix of the provenance headers. */
    public static final String HEADER_PREFIX = "idemlog.dlt.";
    private static final int MAX_MESSAGE_CHARS = 1_000;

    private final Producer<K, V> producer;
    private final String topic;
    private final Duration timeout;

    /** Publishes to {@code topic} through {@code producer}, waiting up to {@code timeout} for each acknowledgement. */
    public KafkaDeadLetterPublisher(Producer<K, V> producer, String topic, Duration timeout) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.topic = Objects.requireNonNull(topic, "topic");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    @Override
    public void publish(ConsumerRecord<K, V> record, Throwable cause, int attempts) throws Exception {
        RecordHeaders headers = new RecordHeaders();
        for (Header h : record.headers()) {
            headers.add(h);
        }
        headers.add(HEADER_PREFIX + "topic", utf8(record.topic()));
        headers.add(HEADER_PREFIX + "partition", utf8(Integer.toString(record.partition())));
        headers.add(HEADER_PREFIX + "offset", utf8(Long.toString(record.offset())));
        headers.add(HEADER_PREFIX + "attempts", utf8(Integer.toString(attempts)));
        headers.add(HEADER_PREFIX + "exception", utf8(cause == null ? "none" : cause.getClass().getName()));
        String message = cause == null || cause.getMessage() == null ? "" : cause.getMessage();
        if (message.length() > MAX_MESSAGE_CHARS) {
            message = message.substring(0, MAX_MESSAGE_CHARS);
        }
        headers.add(HEADER_PREFIX + "message", utf8(message));
        Long timestamp = record.timestamp() >= 0 ? record.timestamp() : null;
        producer.send(new ProducerRecord<>(topic, null, timestamp, record.key(), record.value(), headers))
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The offset header's value as a number (for readers of the dead-letter topic). */
    public static long offsetOf(Header offsetHeader) {
        return Long.parseLong(StandardCharsets.UTF_8.decode(ByteBuffer.wrap(offsetHeader.value())).toString());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "KafkaDeadLetterPublisher(" + topic + ")";
    }
}
