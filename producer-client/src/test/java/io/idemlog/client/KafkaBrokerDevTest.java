package io.idemlog.client;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end against a real Apache Kafka broker, for development (shared/peer-kafka/README.md starts one):
 * {@code IDEMLOG_KAFKA_BOOTSTRAP=127.0.0.1:29092 IDEMLOG_KAFKA_TOPIC=p8}. Produces N x 100 B records with this
 * client, reads them back with kafka-clients' KafkaConsumer, and checks that every record is there exactly once,
 * in send order within each partition, at the offset its future reported.
 */
@Tag("dev")
@EnabledIfEnvironmentVariable(named = "IDEMLOG_KAFKA_BOOTSTRAP", matches = ".+")
class KafkaBrokerDevTest {
    private static final String BOOTSTRAP = System.getenv("IDEMLOG_KAFKA_BOOTSTRAP");
    private static final String TOPIC = System.getenv().getOrDefault("IDEMLOG_KAFKA_TOPIC", "p8");
    private static final int RECORDS = Integer.parseInt(System.getenv().getOrDefault("IDEMLOG_KAFKA_RECORDS",
        "1000000"));

    @Test
    void shouldWriteEveryRecordExactlyOnceAndInOrder() throws Exception {
        Map<Integer, Long> endBefore = endOffsets();
        int partitions = endBefore.size();
        long[] offsetOf = new long[RECORDS];
        int[] partitionOf = new int[RECORDS];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong acked = new AtomicLong();
        long t0;
        long t1;
        try (IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
            .bootstrapServers(BOOTSTRAP).lingerMs(5).build())) {
            // Warm the metadata so the timing below is the send path only.
            producer.send(TOPIC, null, value(-1)).get();
            t0 = System.nanoTime();
            for (int i = 0; i < RECORDS; i++) {
                final int index = i;
                producer.send(TOPIC, null, value(i), (md, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else {
                        offsetOf[index] = md.offset();
                        partitionOf[index] = md.partition();
                        acked.incrementAndGet();
                    }
                });
            }
            producer.flush();
            t1 = System.nanoTime();
            System.out.printf("idemlog client: %d x 100 B to %s in %.3f s = %.0f records/s; %s%n", RECORDS, TOPIC,
                (t1 - t0) / 1e9, RECORDS / ((t1 - t0) / 1e9), producer.metrics());
        }
        assertNull(failure.get(), () -> "a send failed: " + failure.get());
        assertEquals(RECORDS, acked.get());

        // Read back every record produced above, from the offsets the topic had before.
        BitSet seen = new BitSet(RECORDS);
        long[] lastIndex = new long[partitions];
        java.util.Arrays.fill(lastIndex, -2);
        int read = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                tps.add(new TopicPartition(TOPIC, p));
            }
            consumer.assign(tps);
            for (TopicPartition tp : tps) {
                consumer.seek(tp, endBefore.get(tp.partition()));
            }
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (read < RECORDS + 1 && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    read++;
                    long index = ByteBuffer.wrap(r.value()).getLong();
                    if (index < 0) {
                        continue;
                    }
                    int i = (int) index;
                    assertTrue(!seen.get(i), "duplicate record " + i + " at " + r.partition() + "/" + r.offset());
                    seen.set(i);
                    assertTrue(index > lastIndex[r.partition()], "out of order in partition " + r.partition()
                        + ": " + index + " after " + lastIndex[r.partition()]);
                    lastIndex[r.partition()] = index;
                    assertEquals(partitionOf[i], r.partition(), "partition of record " + i);
                    assertEquals(offsetOf[i], r.offset(), "offset of record " + i);
                }
            }
        }
        assertEquals(RECORDS, seen.cardinality(), "records read back");
        assertEquals(RECORDS + 1, read, "records in the topic beyond the start offsets");
    }

    private static byte[] value(long index) {
        byte[] v = new byte[100];
        ByteBuffer.wrap(v).putLong(index);
        return v;
    }

    private static KafkaConsumer<byte[], byte[]> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BOOTSTRAP);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
        return new KafkaConsumer<>(p);
    }

    private static Map<Integer, Long> endOffsets() {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            Map<Integer, Long> out = new HashMap<>();
            List<TopicPartition> tps = new ArrayList<>();
            consumer.partitionsFor(TOPIC).forEach(pi -> tps.add(new TopicPartition(TOPIC, pi.partition())));
            consumer.endOffsets(tps).forEach((tp, o) -> out.put(tp.partition(), o));
            return out;
        }
    }

    @SuppressWarnings("unused")
    private static CompletableFuture<Void> unused() {
        return null;
    }
}
