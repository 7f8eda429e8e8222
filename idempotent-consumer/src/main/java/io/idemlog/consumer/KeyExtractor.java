package io.idemlog.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;

/**
 * The de-duplication key of a record: what the processed-id store remembers. Two records with the same key (in one
 * {@linkplain IdempotentConsumer.Builder#scope scope}) have their effect applied once.
 *
 * <p>Choose per handler:
 * <ul>
 *   <li>{@link #header(String)}: the producer's de-duplication header (the header the server-side window reads, the
 *       topic config {@code dedup.header}); catches records the producer sent twice, at different offsets.</li>
 *   <li>{@link #recordKey(Function)}: the Kafka record key. Only right when each key is produced once (an event id);
 *       most topics use the key for an entity, with many records per key.</li>
 *   <li>{@link #businessKey(Function)}: any function of the record, e.g. the order id inside the payload.</li>
 *   <li>{@link #position()}: topic, partition and offset. Catches redeliveries of the same record (a crash before the
 *       offset commit, a rebalance) but not a record the producer sent twice.</li>
 * </ul>
 * {@link #orElse(KeyExtractor)} chains them: {@code header("dedup-id").orElse(position())}.
 *
 * <p>A key is at most {@link #MAX_KEY_BYTES} bytes. An extractor returns null when the record has no key; if the
 * whole chain returns null the record cannot be de-duplicated and is handled as a poison record (dead-lettered, or
 * the consumer stops with {@link PoisonRecordException}).
 *
 * @param <K> the record key type
 * @param <V> the record value type
 */
@FunctionalInterface
public interface KeyExtractor<K, V> {
    /** The longest key a store accepts (the JDBC column is {@code VARBINARY(512)} / {@code BYTEA}). */
    int MAX_KEY_BYTES = 512;

    /** The key of {@code record}, or null when it has none. Must not modify the returned array afterwards. */
    byte[] key(ConsumerRecord<K, V> record);

    /** This extractor, and {@code fallback} for records where it returns null. */
    default KeyExtractor<K, V> orElse(KeyExtractor<K, V> fallback) {
        Objects.requireNonNull(fallback, "fallback");
        return record -> {
            byte[] k = key(record);
            return k != null ? k : fallback.key(record);
        };
    }

    /** The value of the last header named {@code name} (the one Kafka's {@code lastHeader} returns), as bytes. */
    static <K, V> KeyExtractor<K, V> header(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("header name is empty");
        }
        return record -> {
            Header h = record.headers().lastHeader(name);
            return h == null || h.value() == null ? null : h.value();
        };
    }

    /** The record key, turned into a string by {@code toText} (e.g. {@code String::valueOf}), UTF-8 encoded. */
    static <K, V> KeyExtractor<K, V> recordKey(Function<? super K, String> toText) {
        Objects.requireNonNull(toText, "toText");
        return record -> record.key() == null ? null : utf8(toText.apply(record.key()));
    }

    /** The record key as it is, for consumers that deserialize keys as {@code byte[]}. */
    static <V> KeyExtractor<byte[], V> recordKeyBytes() {
        return ConsumerRecord::key;
    }

    /** A business key: any function of the record (null: no key), UTF-8 encoded. */
    static <K, V> KeyExtractor<K, V> businessKey(Function<? super ConsumerRecord<K, V>, String> key) {
        Objects.requireNonNull(key, "key");
        return record -> utf8(key.apply(record));
    }

    /**
     * The record's position: topic, partition, offset, in a binary form that cannot collide with another position
     * ({@link #positionKey}).
     */
    static <K, V> KeyExtractor<K, V> position() {
        return record -> positionKey(record.topic(), record.partition(), record.offset());
    }

    /**
     * The key {@link #position()} gives: {@code 0x00}, partition (4 bytes), offset (8 bytes), then the topic name in
     * UTF-8. The leading zero byte keeps it apart from any UTF-8 text key (text never starts with NUL in practice;
     * use a separate {@linkplain IdempotentConsumer.Builder#scope scope} when mixing position keys with binary keys).
     */
    static byte[] positionKey(String topic, int partition, long offset) {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 4 + 8 + t.length).put((byte) 0).putInt(partition).putLong(offset).put(t)
            .array();
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
