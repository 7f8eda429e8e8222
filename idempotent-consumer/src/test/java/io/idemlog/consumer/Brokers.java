package io.idemlog.consumer;

import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

/**
 * The brokers of the consumer tests, one of each per test JVM (started on first use, stopped by a shutdown hook): a
 * real Apache Kafka 4.x broker (KRaft, child JVM) and the idemlog server (child JVM). Every topic has
 * {@link #PARTITIONS} partitions.
 */
final class Brokers {
    static final int PARTITIONS = 3;
    private static KafkaBroker kafka;
    private static ServerProcess idemlog;

    private Brokers() {
    }

    static synchronized KafkaBroker kafka() {
        if (kafka == null) {
            kafka = KafkaBroker.builder(tempDir("kafka")).numPartitions(PARTITIONS).logLevel("WARN").start();
            KafkaBroker k = kafka;
            Runtime.getRuntime().addShutdownHook(new Thread(k::close, "kafka-broker-stop"));
        }
        return kafka;
    }

    static synchronized ServerProcess idemlog() {
        if (idemlog == null) {
            idemlog = ServerProcess.builder(tempDir("idemlog").resolve("data"))
                .override("num.partitions", String.valueOf(PARTITIONS)).start();
            ServerProcess s = idemlog;
            Runtime.getRuntime().addShutdownHook(new Thread(s::close, "idemlog-server-stop"));
        }
        return idemlog;
    }

    private static Path tempDir(String what) {
        try {
            return Files.createTempDirectory("idemlog-consumer-test-" + what + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static KafkaConsumer<String, String> consumer(String bootstrap, String group, Map<String, Object> extra) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
        p.putAll(extra);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Sends {@code value} with the de-duplication header {@code dedup-id: id} to a partition, waits for the ack. */
    static void send(KafkaProducer<String, String> producer, String topic, int partition, String id, String value) {
        ProducerRecord<String, String> r = new ProducerRecord<>(topic, partition, id, value);
        r.headers().add("dedup-id", id.getBytes(StandardCharsets.UTF_8));
        try {
            producer.send(r).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("send failed", e.getCause());
        }
    }
}
