package io.idemlog.cluster;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.Ports;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
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
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String TOPIC = "orders";
    private static final String GROUP = "billing";
    private static final int PARTITIONS = 4;
    private static final int RECORDS = 400;

    @TempDir
    Path dir;
    private final ServerProcess[] nodes = new ServerProcess[3];

    @AfterEach
    void stopAll() {
        for (ServerProcess n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    private void startCluster() {
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(Ports.freePort());
        }
        for (int i = 0; i < 3; i++) {
            nodes[i] = ServerProcess.builder(dir.resolve("data" + (i + 1)))
                .jvmArgs("-Xms64m", "-Xmx256m")
                .override("node.id", Integer.toString(i + 1))
                .override("controller.quorum.voters", voters.toString())
                .override("default.replication.factor", "3")
                .override("min.insync.replicas", "2")
                .override("auto.create.topics.enable", "false")
                .startupTimeout(Duration.ofSeconds(180))
                .stopTimeout(Duration.ofSeconds(30))
                .build();
        }
        for (ServerProcess n : nodes) {
            n.start();
        }
    }

    private String bootstrap() {
        StringBuilder b = new StringBuilder();
        for (ServerProcess n : nodes) {
            if (n.isAlive()) {
                b.append(b.length() == 0 ? "" : ",").append(n.bootstrap());
            }
        }
        return b.toString();
    }

    private Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        return Admin.create(p);
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

    private void awaitAllLed(Admin admin) {
        Await.until(() -> "every partition led by a live node", TIMEOUT, () -> {
            try {
                TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(20, TimeUnit.SECONDS)
                    .get(TOPIC);
                for (TopicPartitionInfo p : d.partitions()) {
                    if (p.leader() == null || p.leader().isEmpty() || !nodes[p.leader().id() - 1].isAlive()) {
                        return false;
                    }
                }
                return true;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void committedOffsetsSurviveTheCoordinatorsNodeBeingKilled() throws Exception {
        startCluster();
        Map<TopicPartition, Long> ends = new TreeMap<>(java.util.Comparator.comparingInt(TopicPartition::partition));
        try (Admin admin = admin()) {
            Await.until("three brokers registered", TIMEOUT, () -> {
                try {
                    return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() == 3;
                } catch (Exception e) {
                    return false;
                }
            });
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(30, TimeUnit.SECONDS);
            awaitAllLed(admin);
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
        try (Admin admin = admin()) {
            assertEquals(middle, committed(admin), "offsets as member 1 committed them");
            first = coordinator(admin);
            assertTrue(first >= 1 && first <= 3, "a coordinator: " + first);
        }

        // the coordinator's node dies: another node becomes the coordinator with the same committed offsets
        nodes[first - 1].kill();
        int second;
        try (Admin admin = admin()) {
            Await.until(() -> "a coordinator on another node than the killed " + first, TIMEOUT, () -> {
                int c = coordinator(admin);
                return c > 0 && c != first;
            });
            second = coordinator(admin);
            Map<TopicPartition, Long> after = committed(admin);
            assertEquals(middle, after,
                "the committed offsets as the new coordinator (node " + second + ") answers them");
            awaitAllLed(admin);
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
        nodes[first - 1].start();
        try (Admin admin = admin()) {
            awaitAllLed(admin);
        }
        nodes[second - 1].kill();
        try (Admin admin = admin()) {
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
