package io.idemlog.cluster;

import io.idemlog.client.FatalProducerException;
import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.ProducerConfig;
import io.idemlog.testkit.Await;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Stable producer identity (producer.name, docs/DEDUP.md) on a 3-node cluster: the identity is an entry of the
 * metadata group, so an instance that asks ANY node gets the name's producer id at the next epoch block and the
 * older instance is fenced (INVALID_PRODUCER_EPOCH, fatal) on whichever node leads the partition; after the leader
 * is SIGKILLed the newest instance goes on and a later one fences it again. Before, cluster mode refused named
 * producers (InitProducerId answered INVALID_REQUEST: identities were a single node's file).
 */
@Tag("slow")
class ClusterNamedProducerTest {
    private static final String TOPIC = "named";

    @TempDir
    Path dir;
    private ClusterHarness cluster;

    @AfterEach
    void stopAll() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static IdemlogProducer producer(String bootstrap, String name) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS, bootstrap);
        p.put(ProducerConfig.ACKS, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE, "true");
        p.put(ProducerConfig.LINGER_MS, "5");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS, "60000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS, "10000");
        p.put(ProducerConfig.PRODUCER_NAME, name);
        return IdemlogProducer.create(p);
    }

    private static void send(IdemlogProducer producer, String value) throws Exception {
        producer.send(TOPIC, 0, null, value.getBytes(StandardCharsets.UTF_8), null).get(90, TimeUnit.SECONDS);
    }

    private static void assertFenced(IdemlogProducer producer, String value) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> send(producer, value));
        assertInstanceOf(FatalProducerException.class, e.getCause(), String.valueOf(e.getCause()));
        assertEquals(47, ((FatalProducerException) e.getCause()).errorCode(), "INVALID_PRODUCER_EPOCH");
    }

    private List<String> values() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(30)).get(tp);
            Await.until("the records of " + TOPIC + " up to " + end, ClusterHarness.TIMEOUT, () -> {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    out.add(new String(r.value(), StandardCharsets.UTF_8));
                }
                return consumer.position(tp) >= end;
            });
        }
        return out;
    }

    @Test
    void theNewestInstanceOfANameFencesTheOlderOnAnyNodeAndAfterTheLeaderIsKilled() throws Exception {
        cluster = new ClusterHarness(dir, "ClusterNamedProducerTest");
        cluster.start();
        int leader;
        try (Admin admin = cluster.admin()) {
            ClusterHarness.awaitThreeBrokers(admin);
            ClusterHarness.createTopics(admin, List.of(new NewTopic(TOPIC, 1, (short) 3)));
            cluster.awaitAllLed(admin, TOPIC, Set.of());
            // a Metadata answer from another node may still name no leader right after awaitAllLed's (-1)
            int[] led = {-1};
            Await.until("a leader of " + TOPIC + "-0", ClusterHarness.TIMEOUT, () -> {
                int[] l = ClusterHarness.leaders(admin, TOPIC);
                led[0] = l == null ? -1 : l[0];
                return led[0] > 0;
            });
            leader = led[0];

            try (IdemlogProducer first = producer(cluster.nodes[0].bootstrap(), "orders-app")) {
                send(first, "first-1");
                // the second instance's InitProducerId goes to another node than the first's
                try (IdemlogProducer second = producer(cluster.nodes[2].bootstrap(), "orders-app")) {
                    send(second, "second-1");
                    assertFenced(first, "first-2");
                    send(second, "second-2");

                    // every replica in sync before the kill: the group of a new topic may be created on the third
                    // node only now (its reconciliation pass), and the two survivors need each other's vote
                    cluster.awaitReplicasConverged();
                    cluster.nodes[leader - 1].kill();
                    cluster.awaitAllLed(admin, TOPIC, Set.of(leader));
                    send(second, "second-3"); // still the newest instance: it goes on on the new leader
                    String alive = cluster.nodes[leader % 3].bootstrap();
                    try (IdemlogProducer third = producer(alive, "orders-app")) {
                        send(third, "third-1");
                        assertFenced(second, "second-4");
                    }
                }
            }
        }
        assertEquals(List.of("first-1", "second-1", "second-2", "second-3", "third-1"), values(),
            "the fenced instances wrote nothing more");
    }
}
