package io.idemlog.interop;

import io.idemlog.testkit.RecordTag;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs in a child JVM with ONE kafka-clients version on its class path (3.9.x or 4.x: they cannot share one):
 * an idempotent producer (acks=all) sends {@code records} tagged records round-robin over the topic's partitions,
 * then a KafkaConsumer with assign() reads every partition from the beginning to its end offset. Writes what it
 * did to {@code out}: the client version, one line per acknowledged send and one per consumed record, for the
 * test to check with the HistoryChecker. Uses only API that 3.9 and 4.x share.
 *
 * <p>Arguments: bootstrap topic partitions records label out-file [compression.type]
 */
public final class KafkaClientsDriver {
    private KafkaClientsDriver() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        int partitions = Integer.parseInt(args[2]);
        int records = Integer.parseInt(args[3]);
        String label = args[4];
        Path out = Paths.get(args[5]);

        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        pp.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        pp.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        pp.put(ProducerConfig.CLIENT_ID_CONFIG, "interop-" + label);
        if (args.length > 6) {
            pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, args[6]);
        }
        ConcurrentLinkedQueue<String> acks = new ConcurrentLinkedQueue<>();
        AtomicLong failures = new AtomicLong();
        List<String> errors = new ArrayList<>();
        long t0 = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
            new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                int partition = i % partitions;
                RecordTag tag = new RecordTag(label, partition, i);
                producer.send(new ProducerRecord<>(topic, partition, null, tag.encode(100)), (md, e) -> {
                    if (e != null) {
                        failures.incrementAndGet();
                        synchronized (errors) {
                            if (errors.size() < 5) {
                                errors.add(e.toString());
                            }
                        }
                    } else {
                        acks.add("acked " + tag.partition() + " " + tag.index() + " " + md.offset());
                    }
                });
            }
            producer.flush();
        }
        long produceMs = (System.nanoTime() - t0) / 1_000_000;

        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "interop-consumer-" + label);
        List<String> consumed = new ArrayList<>(records);
        long t1 = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                tps.add(new TopicPartition(topic, p));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (System.nanoTime() < deadline && !reachedEnd(consumer, end)) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    RecordTag tag = RecordTag.decode(r.value());
                    consumed.add("consumed " + r.partition() + " " + r.offset() + " "
                        + (tag == null ? "untagged" : tag.producer() + " " + tag.partition() + " " + tag.index()));
                }
            }
        }
        long consumeMs = (System.nanoTime() - t1) / 1_000_000;

        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            w.write("version " + AppInfoParser.getVersion() + "\n");
            w.write("failures " + failures.get() + " " + String.join(" ; ", errors) + "\n");
            w.write("timing produce_ms=" + produceMs + " consume_ms=" + consumeMs + "\n");
            for (String a : acks) {
                w.write(a);
                w.write('\n');
            }
            for (String c : consumed) {
                w.write(c);
                w.write('\n');
            }
        } catch (IOException e) {
            System.exit(3);
        }
    }

    private static boolean reachedEnd(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
