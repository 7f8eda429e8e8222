package io.idemlog.clientit;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.testkit.HistoryChecker;
import io.idemlog.testkit.HistoryReport;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.LoggedRecord;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * idemlog's producer, end to end, 1,000,000 records to 8 partitions with acks=all and idempotence: against an idemlog
 * server (read back with the testkit's LogReader) and against a real Apache Kafka 4.x broker (read back with the
 * official KafkaConsumer). Each time: every record exactly once, in send order per partition, and the futures (here:
 * callbacks) completed with the offsets actually in the log.
 */
@Tag("slow")
@Timeout(600)
class IdemlogProducerEndToEndTest {
    private static final int RECORDS = Integer.getInteger("clientit.records", 1_000_000);
    private static final int PARTITIONS = 8;
    private static final int VALUE_BYTES = 100;

    @TempDir
    Path dir;

    @Test
    void aMillionRecordsToIdemlogLandExactlyOnceInOrderAtTheReportedOffsets() throws Exception {
        String topic = "acceptance";
        try (ServerProcess server = ServerProcess.builder(dir.resolve("idemlog"))
            .override("create.topics", topic + ":" + PARTITIONS)
            .logFile(dir.resolve("server.log"))
            .start();
             IdemlogProducer producer = IdemlogProducer.create(ClientRuns.config(server.bootstrap(), true))) {
            HistoryChecker checker = new HistoryChecker();
            ClientRuns.Produced produced = ClientRuns.produce(producer, topic, PARTITIONS, RECORDS, VALUE_BYTES,
                "idl", checker, i -> { });
            assertEquals(0, produced.failed(), "failed sends, first: " + produced.firstFailure());
            assertEquals(RECORDS, produced.acked());
            try (LogReader reader = new LogReader(server.address())) {
                assertEquals(RECORDS, reader.readAll(topic, checker::logged));
            }
            HistoryReport report = checker.check();
            assertTrue(report.isClean(), report.summary());
            System.out.println("idemlog producer -> idemlog: " + RECORDS + " records in " + produced.millis()
                + " ms; " + report.summary());
        }
    }

    @Test
    void aMillionRecordsToApacheKafkaLandExactlyOnceInOrderAtTheReportedOffsets() throws Exception {
        String topic = "acceptance";
        try (KafkaBroker kafka = KafkaBroker.builder(dir.resolve("kafka")).numPartitions(PARTITIONS).start()) {
            kafka.createTopic(topic);
            HistoryChecker checker = new HistoryChecker();
            ClientRuns.Produced produced;
            try (IdemlogProducer producer = IdemlogProducer.create(ClientRuns.config(kafka.bootstrap(), true))) {
                produced = ClientRuns.produce(producer, topic, PARTITIONS, RECORDS, VALUE_BYTES, "kafka", checker,
                    i -> { });
            }
            assertEquals(0, produced.failed(), "failed sends, first: " + produced.firstFailure());
            assertEquals(RECORDS, produced.acked());
            assertEquals(RECORDS, consumeAll(kafka.bootstrap(), topic, checker));
            HistoryReport report = checker.check();
            assertTrue(report.isClean(), report.summary());
            System.out.println("idemlog producer -> Apache Kafka: " + RECORDS + " records in " + produced.millis()
                + " ms; " + report.summary());
        }
    }

    /** Reads every partition from the beginning to its end offset with the official consumer. */
    private static long consumeAll(String bootstrap, String topic, HistoryChecker checker) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        long consumed = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                tps.add(new TopicPartition(topic, p));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (System.nanoTime() < deadline && !atEnd(consumer, end)) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    checker.logged(new LoggedRecord(r.partition(), r.offset(), r.timestamp(), r.key(), r.value()));
                    consumed++;
                }
            }
        }
        return consumed;
    }

    private static boolean atEnd(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
