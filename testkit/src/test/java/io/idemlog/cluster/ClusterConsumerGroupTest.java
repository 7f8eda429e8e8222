package io.idemlog.cluster;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Consumer groups on a 3-node cluster (issue 13 scope 4): kafka-clients consumers in a group commit offsets through
 * the coordinator (the node leading the replicated offsets group); the coordinator's node is SIGKILLed, a new
 * coordinator on another node answers the same committed offsets, and a new member of the group resumes exactly
 * there. Then the killed node comes back (it catches up on the offsets group) and the second coordinator is killed:
 * the later commit survives too. The committed offsets are mid-partition (neither 0 nor the end), so offsets lost
 * with the coordinator would show as a restart from the beginning (auto.offset.reset=earliest).
 */
@Tag("slow")
class ClusterConsumerGroupTest {
    private static final Duration TIMEOUT = ClusterHarness.TIMEOUT;
    private static final String TOPIC = "orders";
    private static final String GROUP = "billing";
    private static final int PARTITIONS = ClusterHarness.PARTITIONS;
    private static final int RECORDS = 400;

    @TempDir
    Path dir;
    private ClusterHarness cluster;

    @AfterEach
    void stopAll() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The live nodes' listeners (a client's bootstrap after a kill). */
    private String bootstrap() {
        StringBuilder b = new StringBuilder();
        for (ServerProcess n : cluster.nodes) {
            if (n.isAlive()) {
                b.append(b.length() == 0 ? "" : ",").append(n.bootstrap());
            }
        }
        return b.toString();
    }

    /** The nodes not running now (node ids). */
    private java.util.Set<Integer> down() {
        java.util.Set<Integer> out = new java.util.HashSet<>();
        for (int i = 0; i < 3; i++) {
            if (!cluster.nodes[i].isAlive()) {
                out.add(i + 1);
            }
        }
        return out;
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    /** The group's coordinator node as Admin finds it (-1 while unknown or on an error). */
    private static int coordinator(Admin admin) {
        try {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(GROUP)).all()
                .get(20, TimeUnit.SECONDS).get(GROUP);
            return d.coordinator() == null ? -1 : d.coordinator().id();
        } catch (Exception e) {
            return -1;
        }
    }

    /** The committed offsets as the current coordinator answers them (null on an error). */
    private static Map<TopicPartition, Long> committed(Admin admin) {
        try {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS);
            Map<TopicPartition, Long> out = new TreeMap<>(java.util.Comparator.comparingInt(TopicPartition::partition));
            m.forEach((tp, o) -> out.put(tp, o.offset()));
            return out;
        } catch (Exception e) {
            return null;
        }
    }

    @Test
    void committedOffsetsSurviveTheCoordinatorsNodeBeingKilled() throws Exception {
        cluster = new ClusterHarness(dir, "ClusterConsumerGroupTest");
        cluster.start();
        Map<TopicPartition, Long> ends = new TreeMap<>(java.util.Comparator.comparingInt(TopicPartition::partition));
        try (Admin admin = cluster.admin()) {
            cluster.createTopics(admin, TOPIC);
        }
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null,
                    Integer.toString(i).getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS);
            }
        }
        for (int p = 0; p < PARTITIONS; p++) {
            ends.put(new TopicPartition(TOPIC, p), (long) RECORDS / PARTITIONS);
        }

        // member 1 reads everything and commits the middle of each partition
        Map<TopicPartition, Long> middle = new HashMap<>();
        ends.forEach((tp, end) -> middle.put(tp, end / 2 + tp.partition())); // a different offset per partition
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            c.subscribe(List.of(TOPIC));
            int[] seen = {0};
            Await.until(() -> "member 1 read all " + RECORDS + " records (" + seen[0] + ")", TIMEOUT, () -> {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    seen[0]++;
                }
                return seen[0] >= RECORDS;
            });
            Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
            middle.forEach((tp, o) -> commit.put(tp, new OffsetAndMetadata(o, "member-1")));
            c.commitSync(commit, Duration.ofSeconds(30));
        }
        int first;
        try (Admin admin = cluster.admin()) {
            assertEquals(middle, committed(admin), "offsets as member 1 committed them");
            first = coordinator(admin);
            assertTrue(first >= 1 && first <= 3, "a coordinator: " + first);
        }

        // the coordinator's node dies: another node becomes the coordinator with the same committed offsets
        cluster.nodes[first - 1].kill();
        int second;
        try (Admin admin = cluster.admin()) {
            Await.until(() -> "a coordinator on another node than the killed " + first, TIMEOUT, () -> {
                int c = coordinator(admin);
                return c > 0 && c != first;
            });
            second = coordinator(admin);
            Map<TopicPartition, Long> after = committed(admin);
            assertEquals(middle, after,
                "the committed offsets as the new coordinator (node " + second + ") answers them");
            cluster.awaitAllLed(admin, TOPIC, down());
        }
        assertNotEquals(first, second);

        // member 2 of the same group resumes exactly at the committed offsets, reads the rest and commits the end
        Map<TopicPartition, Long> firstSeen = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            c.subscribe(List.of(TOPIC));
            long expected = 0;
            for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
                expected += e.getValue() - middle.get(e.getKey());
            }
            long want = expected;
            int[] seen = {0};
            Await.until(() -> "member 2 read the " + want + " records after the committed offsets (" + seen[0] + ")",
                TIMEOUT, () -> {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                        firstSeen.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
                        seen[0]++;
                    }
                    return seen[0] >= want;
                });
            assertEquals(want, seen[0], "records read after the committed offsets (none twice, none skipped)");
            c.commitSync(Duration.ofSeconds(30));
        }
        assertEquals(middle, firstSeen, "where member 2 started reading");

        // the killed node comes back and catches up; then the second coordinator's node dies too
        cluster.nodes[first - 1].start();
        try (Admin admin = cluster.admin()) {
            cluster.awaitAllLed(admin, TOPIC, down());
        }
        cluster.nodes[second - 1].kill();
        try (Admin admin = cluster.admin()) {
            Await.until(() -> "a coordinator on another node than the killed " + second, TIMEOUT, () -> {
                int c = coordinator(admin);
                return c > 0 && c != second;
            });
            Map<TopicPartition, Long> last = committed(admin);
            assertEquals(ends, last,
                "member 2's commit as the third coordinator answers it");
        }
    }
}
