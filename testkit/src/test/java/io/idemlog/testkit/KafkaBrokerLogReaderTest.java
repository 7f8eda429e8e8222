package io.idemlog.testkit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KafkaBroker and LogReader against a real Apache Kafka 4.x broker, records produced with kafka-clients. */
@Tag("slow")
@Timeout(180)
class KafkaBrokerLogReaderTest {
    private static final int PARTITIONS = 3;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // keeps broker.log when a test fails
    static Path dir;
    static KafkaBroker kafka;

    @BeforeAll
    static void startKafka() {
        kafka = KafkaBroker.builder(dir.resolve("kafka")).numPartitions(PARTITIONS).start();
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 4096);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Test
    void shouldReadBackEveryRecordWithItsPartitionOffsetKeyValueAndTimestamp() throws Exception {
        String topic = "read-back";
        assertEquals(PARTITIONS, kafka.createTopic(topic));
        int n = 3_000;
        HistoryChecker checker = new HistoryChecker();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (int i = 0; i < n; i++) {
                RecordTag tag = new RecordTag("reader", i % PARTITIONS, i);
                checker.sent(tag);
                byte[] key = ("k" + i).getBytes(StandardCharsets.US_ASCII);
                acks.add(producer.send(new ProducerRecord<>(topic, tag.partition(), 1_000_000L + i, key,
                    tag.encode(40))));
            }
            for (int i = 0; i < n; i++) {
                checker.acked(new RecordTag("reader", i % PARTITIONS, i), acks.get(i).get().offset());
            }
        }

        List<LoggedRecord> records = new ArrayList<>();
        try (LogReader reader = new LogReader(kafka.address())) {
            assertEquals(PARTITIONS, reader.partitionCount(topic));
            assertEquals(new LogReader.Offsets(0, n / PARTITIONS), reader.offsets(topic, 1));
            assertEquals(n, reader.readAll(topic, r -> {
                records.add(r);
                checker.logged(r);
            }));
        }
        HistoryReport report = checker.check();
        assertTrue(report.isClean(), report.summary());
        assertEquals(n, report.acked());

        LoggedRecord first = records.get(0);
        assertEquals(0, first.partition());
        assertEquals(0, first.offset());
        assertEquals(1_000_000L, first.timestamp());
        assertArrayEquals("k0".getBytes(StandardCharsets.US_ASCII), first.key());
        assertEquals(new RecordTag("reader", 0, 0), RecordTag.decode(first.value()));
        for (int i = 1; i < records.size(); i++) {
            LoggedRecord prev = records.get(i - 1);
            LoggedRecord cur = records.get(i);
            assertTrue(cur.partition() > prev.partition() || cur.offset() == prev.offset() + 1, cur.toString());
        }
    }

    @Test
    void shouldKeepTheBrokerLogThroughLogbackInTheWorkDirectory() {
        String log = kafka.logTail(1_000_000);
        assertTrue(log.contains("Kafka Server started"), log);
        assertTrue(kafka.isAlive());
    }

    @Test
    void shouldReadNothingFromAnEmptyTopic() throws IOException {
        kafka.createTopic("empty");
        try (LogReader reader = new LogReader(kafka.address())) {
            assertEquals(0, reader.readAll("empty", r -> {
                throw new AssertionError(r.toString());
            }));
        }
    }

    @Test
    void shouldRefuseAnUnknownTopic() throws IOException {
        try (LogReader reader = new LogReader(kafka.address())) {
            assertThrows(IOException.class, () -> reader.partitionCount("never-created"));
        }
    }

    @Test
    void shouldKeepTheDataAcrossARestartOnTheSamePort() throws IOException, ExecutionException,
        InterruptedException {
        String topic = "restart";
        kafka.createTopic(topic);
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            producer.send(new ProducerRecord<>(topic, 0, null, "before".getBytes(StandardCharsets.US_ASCII))).get();
        }
        int port = kafka.port();
        kafka.restart();
        assertEquals(port, kafka.port());
        List<LoggedRecord> records = new ArrayList<>();
        try (LogReader reader = new LogReader(kafka.address(), Duration.ofSeconds(30))) {
            reader.read(topic, 0, records::add);
        }
        assertEquals(1, records.size());
        assertArrayEquals("before".getBytes(StandardCharsets.US_ASCII), records.get(0).value());
    }
}
