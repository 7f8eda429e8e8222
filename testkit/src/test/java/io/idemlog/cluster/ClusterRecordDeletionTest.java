package io.idemlog.cluster;

import io.idemlog.testkit.Await;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeleteRecords and retention on a 3-node cluster, through kafka-clients' Admin, producer and consumer: the log start
 * offset is an entry of the partition's Raft group (docs/REPLICATION.md 4.7), so after the leader is SIGKILLed the new
 * leader answers the same earliest offset and serves nothing below it. Retention (retention.bytes of the topic) is
 * the leader's decision, applied by every replica. CreatePartitions grows a topic through the metadata group. A topic
 * config change (max.message.bytes) is in force on the partition's leader through the group's config entry. Before,
 * cluster mode refused DeleteRecords and CreatePartitions (INVALID_REQUEST), retention.ms / retention.bytes and then
 * segment.* / max.message.bytes / message.timestamp.type (INVALID_CONFIG), and ran no retention at all.
 */
@Tag("slow")
class ClusterRecordDeletionTest {
    private static final String DELETED = "deleted";
    private static final String RETAINED = "retained";
    private static final int RECORDS = 2000;

    @TempDir
    Path dir;
    private ClusterHarness cluster;

    @AfterEach
    void stopAll() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static long earliest(Admin admin, TopicPartition tp) {
        try {
            return admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get(10, TimeUnit.SECONDS)
                .offset();
        } catch (Exception e) {
            return -1L;
        }
    }

    @Test
    void deletedRecordsStayDeletedAfterTheLeaderIsKilledAndRetentionRunsOnTheReplicas() throws Exception {
        cluster = new ClusterHarness(dir, "ClusterRecordDeletionTest");
        cluster.overrides.put("log.retention.check.interval.ms", "500");
        cluster.overrides.put("log.segment.bytes", "16384");
        cluster.start();
        TopicPartition deleted = new TopicPartition(DELETED, 0);
        TopicPartition retained = new TopicPartition(RETAINED, 0);
        try (Admin admin = cluster.admin()) {
            cluster.createTopics(admin, DELETED);
            ClusterHarness.createTopics(admin, List.of(new NewTopic(RETAINED, 1, (short) 3)
                .configs(Map.of("retention.bytes", "65536"))));
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
            pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            pp.put(ProducerConfig.ACKS_CONFIG, "all");
            pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            byte[] pad = new byte[100];
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
                for (int i = 0; i < RECORDS; i++) {
                    byte[] v = (i + ":" + new String(pad, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
                    producer.send(new ProducerRecord<>(DELETED, 0, null, v));
                    producer.send(new ProducerRecord<>(RETAINED, 0, null, v));
                }
                producer.flush();
            }

            // DeleteRecords through the leader: answered with the new low watermark; earliest moves there
            long low = admin.deleteRecords(Map.of(deleted, RecordsToDelete.beforeOffset(700))).lowWatermarks()
                .get(deleted).get(30, TimeUnit.SECONDS).lowWatermark();
            assertEquals(700, low);
            assertEquals(700, earliest(admin, deleted));
            ExecutionException beyond = assertThrows(ExecutionException.class, () -> admin.deleteRecords(
                Map.of(deleted, RecordsToDelete.beforeOffset(RECORDS + 10))).lowWatermarks().get(deleted)
                .get(30, TimeUnit.SECONDS));
            assertInstanceOf(OffsetOutOfRangeException.class, beyond.getCause());

            // retention.bytes 65536 of "retained": the leader proposes it, every replica applies it
            Await.until("retention moving the earliest offset of " + retained, ClusterHarness.TIMEOUT,
                () -> earliest(admin, retained) > 0);
            long retainedStart = earliest(admin, retained);

            // the leader of "deleted"-0 killed: the new leader has the same log start offset
            int leader = ClusterHarness.leaders(admin, DELETED)[0];
            cluster.nodes[leader - 1].kill();
            cluster.awaitAllLed(admin, DELETED, Set.of(leader));
            Await.until("the new leader answering the earliest offset of " + deleted, ClusterHarness.TIMEOUT,
                () -> earliest(admin, deleted) == 700);
            Await.until("retention's log start offset (" + retainedStart + ") on the leader of " + retained
                + " after the kill", ClusterHarness.TIMEOUT, () -> earliest(admin, retained) >= retainedStart);

            // a consumer from the beginning starts at 700, record 700
            Properties cp = new Properties();
            cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
            cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            cp.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp)) {
                consumer.assign(List.of(deleted));
                consumer.seekToBeginning(List.of(deleted));
                java.util.concurrent.atomic.AtomicReference<ConsumerRecord<byte[], byte[]>> first =
                    new java.util.concurrent.atomic.AtomicReference<>();
                Await.until("a record of " + deleted, ClusterHarness.TIMEOUT, () -> {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        first.set(r);
                        return true;
                    }
                    return false;
                });
                assertEquals(700, first.get().offset());
                assertTrue(new String(first.get().value(), StandardCharsets.US_ASCII).startsWith("700:"));
            }

            // CreatePartitions: 8 -> 10, a metadata entry; the new partitions get leaders and take records
            admin.createPartitions(Map.of(DELETED, org.apache.kafka.clients.admin.NewPartitions.increaseTo(10))).all()
                .get(30, TimeUnit.SECONDS);
            Await.until(DELETED + " with 10 partitions, all led", ClusterHarness.TIMEOUT, () -> {
                int[] l = ClusterHarness.leaders(admin, DELETED);
                if (l == null || l.length != 10) {
                    return false;
                }
                for (int x : l) {
                    if (x < 0 || x == leader) {
                        return false;
                    }
                }
                return true;
            });
            TopicPartition added = new TopicPartition(DELETED, 9);
            Properties pp2 = new Properties();
            pp2.putAll(pp);
            pp2.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp2)) {
                assertEquals(0, producer.send(new ProducerRecord<>(DELETED, 9, null,
                    "new".getBytes(StandardCharsets.US_ASCII))).get(60, TimeUnit.SECONDS).offset());
            }
            ExecutionException shrink = assertThrows(ExecutionException.class, () -> admin.createPartitions(
                Map.of(DELETED, org.apache.kafka.clients.admin.NewPartitions.increaseTo(9))).all()
                .get(30, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.InvalidPartitionsException.class, shrink.getCause());
            assertEquals(0, earliest(admin, added));

            // every topic config is applied in cluster mode: those apply decides with (max.message.bytes,
            // segment.ms, ...) as a config entry of the partition's group, in force on every replica at the same
            // point of the log; a record above the new max.message.bytes is refused by whichever node leads
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, RETAINED);
            admin.incrementalAlterConfigs(Map.of(topic, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "86400000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("segment.ms", "60000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("max.message.bytes", "1024"), AlterConfigOp.OpType.SET))))
                .all().get(30, TimeUnit.SECONDS);
            Properties pp3 = new Properties();
            pp3.putAll(pp);
            pp3.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
            pp3.put(ProducerConfig.ACKS_CONFIG, "1");
            pp3.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp3)) {
                Await.until("max.message.bytes 1024 in force on the leader of " + RETAINED, ClusterHarness.TIMEOUT,
                    () -> {
                        try {
                            producer.send(new ProducerRecord<>(RETAINED, 0, null, new byte[2000])).get(30,
                                TimeUnit.SECONDS);
                            return false;
                        } catch (ExecutionException e) {
                            return e.getCause() instanceof RecordTooLargeException;
                        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
                            return false;
                        }
                    });
                assertTrue(producer.send(new ProducerRecord<>(RETAINED, 0, null, new byte[100])).get(30,
                    TimeUnit.SECONDS).offset() > 0, "a record within the limit still goes in");
            }
        }
    }
}
