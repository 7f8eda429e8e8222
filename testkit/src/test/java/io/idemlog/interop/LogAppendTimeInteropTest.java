package io.idemlog.interop;

import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * message.timestamp.type=LogAppendTime with kafka-clients 4.x against a server process: a topic created with it (and
 * one altered to it) stamps each batch with the server's time: the producer's RecordMetadata.timestamp() is that time
 * (from the Produce answer's log_append_time_ms), and a KafkaConsumer reads LOG_APPEND_TIME records with it, also
 * for lz4-compressed batches; a CreateTime topic keeps the producer's timestamp.
 */
class LogAppendTimeInteropTest {
    private static final long TIMEOUT_S = 60;
    /** A producer timestamp far from the server's clock (2001). */
    private static final long OLD = 1_000_000_000_000L;

    @TempDir
    Path dir;

    private static List<RecordMetadata> produce(String bootstrap, String topic, String compression) throws Exception {
        List<RecordMetadata> out = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.COMPRESSION_TYPE_CONFIG, compression),
            new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                futures.add(producer.send(new ProducerRecord<>(topic, 0, OLD + i, null, ("v" + i).getBytes())));
            }
            for (var f : futures) {
                out.add(f.get(TIMEOUT_S, TimeUnit.SECONDS));
            }
        }
        return out;
    }

    private static List<ConsumerRecord<byte[], byte[]>> consume(String bootstrap, String topic, int count) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
            new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
            while (out.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static void assertAppendTime(String bootstrap, String topic, String compression, long before)
        throws Exception {
        List<RecordMetadata> acks = produce(bootstrap, topic, compression);
        long after = System.currentTimeMillis();
        for (RecordMetadata md : acks) {
            assertTrue(md.timestamp() >= before && md.timestamp() <= after, topic + ": RecordMetadata.timestamp "
                + md.timestamp() + " is the server's append time, in [" + before + ", " + after + "]");
        }
        List<ConsumerRecord<byte[], byte[]>> read = consume(bootstrap, topic, acks.size());
        assertEquals(acks.size(), read.size(), topic + ": records read");
        for (ConsumerRecord<byte[], byte[]> r : read) {
            assertEquals(TimestampType.LOG_APPEND_TIME, r.timestampType(), topic + " offset " + r.offset());
            assertTrue(r.timestamp() >= before && r.timestamp() <= after, topic + ": " + r.timestamp());
        }
    }

    @Test
    void logAppendTimeTopicsAreStampedWithTheServersTimeAndCreateTimeTopicsAreNot() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .logFile(dir.resolve("server.log"))
            .start()) {
            String bootstrap = server.bootstrap();
            long before = System.currentTimeMillis();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(
                    new NewTopic("lat", 1, (short) 1).configs(Map.of("message.timestamp.type", "LogAppendTime")),
                    new NewTopic("lat-lz4", 1, (short) 1).configs(Map.of("message.timestamp.type", "LogAppendTime")),
                    new NewTopic("ct", 1, (short) 1), new NewTopic("altered", 1, (short) 1)))
                    .all().get(TIMEOUT_S, TimeUnit.SECONDS);
                ConfigResource altered = new ConfigResource(ConfigResource.Type.TOPIC, "altered");
                admin.incrementalAlterConfigs(Map.of(altered, List.of(new AlterConfigOp(
                    new ConfigEntry("message.timestamp.type", "LogAppendTime"), AlterConfigOp.OpType.SET))))
                    .all().get(TIMEOUT_S, TimeUnit.SECONDS);
                Config described = admin.describeConfigs(List.of(altered)).all().get(TIMEOUT_S, TimeUnit.SECONDS)
                    .get(altered);
                assertEquals("LogAppendTime", described.get("message.timestamp.type").value());
            }
            assertAppendTime(bootstrap, "lat", "none", before);
            assertAppendTime(bootstrap, "lat-lz4", "lz4", before);
            assertAppendTime(bootstrap, "altered", "none", before);

            List<RecordMetadata> acks = produce(bootstrap, "ct", "none");
            for (int i = 0; i < acks.size(); i++) {
                assertEquals(OLD + i, acks.get(i).timestamp(), "CreateTime: the producer's timestamp");
            }
            for (ConsumerRecord<byte[], byte[]> r : consume(bootstrap, "ct", acks.size())) {
                assertEquals(TimestampType.CREATE_TIME, r.timestampType());
                assertEquals(OLD + r.offset(), r.timestamp());
            }
        }
    }
}
