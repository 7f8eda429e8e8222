package io.idemlog.interop;

import io.idemlog.server.IdemlogServer;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.MetricsScrape;
import org.agrona.concurrent.SystemEpochClock;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.LogTruncationException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KIP-320 position validation with a real kafka-clients 4.1 consumer, against idemlog and against Kafka 4.1's own
 * broker, which must give the same observations: with Metadata's leader epoch 0 the consumer validates every
 * position that carries an epoch by OffsetForLeaderEpoch before fetching. A seek to an offset with epoch 0 and a
 * committed offset with its epoch consume normally; a position beyond the end of its epoch is a detected log
 * truncation (LogTruncationException with the divergent offset under auto.offset.reset=none, a seek to that offset
 * under earliest); an epoch above every known one is a truncation of unknown divergence (reset by policy, or
 * LogTruncationException without a divergent offset). On idemlog the test also checks, from the server's request
 * counter, that OffsetForLeaderEpoch was really asked (the control: before this API existed Metadata answered
 * epoch -1 and the consumer skipped validation, so none of the truncation cases could be detected).
 */
@Tag("slow")
class LeaderEpochConsumerInteropTest {
    private static final String TOPIC = "epochs";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final int RECORDS = 20;
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private static void produce(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer =
                 new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, null, "v" + i)).get();
            }
        }
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap, String group, String reset) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "60000");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Polls until {@code n} records arrived or an exception; "first=<offset> n=<count> epochs=<set>" or the error. */
    private static String consume(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long end = System.nanoTime() + DEADLINE.toNanos();
        try {
            while (got.size() < n && System.nanoTime() < end) {
                c.poll(Duration.ofMillis(200)).forEach(got::add);
            }
        } catch (LogTruncationException e) {
            return "LogTruncationException divergent=" + e.divergentOffsets();
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName();
        }
        if (got.isEmpty()) {
            return "nothing";
        }
        Set<Optional<Integer>> epochs = new java.util.TreeSet<>(java.util.Comparator.comparing(Object::toString));
        got.forEach(r -> epochs.add(r.leaderEpoch()));
        return "first=" + got.get(0).offset() + " n=" + got.size() + " epochs=" + epochs;
    }

    private static String seekAndConsume(String bootstrap, String reset, long offset, int epoch, int n) {
        try (KafkaConsumer<String, String> c = consumer(bootstrap, "g-seek-" + reset, reset)) {
            c.assign(List.of(TP));
            c.seek(TP, new OffsetAndMetadata(offset, Optional.of(epoch), ""));
            return consume(c, n);
        }
    }

    /** The observations, in order, for a broker at {@code bootstrap} with an empty 1-partition {@link #TOPIC}. */
    private static List<String> observe(String bootstrap) throws Exception {
        produce(bootstrap);
        List<String> seen = new ArrayList<>();
        seen.add("seek 5@0: " + seekAndConsume(bootstrap, "none", 5, 0, RECORDS - 5));
        try (KafkaConsumer<String, String> c = consumer(bootstrap, "g-commit", "none")) {
            c.assign(List.of(TP));
            c.commitSync(Map.of(TP, new OffsetAndMetadata(12, Optional.of(0), "")));
        }
        try (KafkaConsumer<String, String> c = consumer(bootstrap, "g-commit", "none")) {
            c.assign(List.of(TP));
            seen.add("committed: " + c.committed(Set.of(TP)).get(TP).leaderEpoch());
            seen.add("from committed 12@0: " + consume(c, RECORDS - 12));
        }
        seen.add("seek 25@0 none: " + seekAndConsume(bootstrap, "none", 25, 0, 1));
        try (KafkaConsumer<String, String> c = consumer(bootstrap, "g-seek-earliest", "earliest")) {
            // a detected truncation with a reset policy seeks to the divergent offset (the log end here: no records)
            c.assign(List.of(TP));
            c.seek(TP, new OffsetAndMetadata(25, Optional.of(0), ""));
            long end = System.nanoTime() + DEADLINE.toNanos();
            int polled = 0;
            while (c.position(TP) == 25 && System.nanoTime() < end) {
                polled += c.poll(Duration.ofMillis(100)).count();
            }
            seen.add("seek 25@0 earliest: position=" + c.position(TP) + " records=" + polled);
        }
        seen.add("seek 5@7 none: " + seekAndConsume(bootstrap, "none", 5, 7, 1));
        seen.add("seek 5@7 earliest: " + seekAndConsume(bootstrap, "earliest", 5, 7, 1));
        return seen;
    }

    /** What Kafka 4.1.1's broker gives (kafkaItselfBehavesSo), and idemlog must. */
    private static final List<String> EXPECTED = List.of(
        "seek 5@0: first=5 n=15 epochs=[Optional[0]]",
        "committed: Optional[0]",
        "from committed 12@0: first=12 n=8 epochs=[Optional[0]]",
        "seek 25@0 none: LogTruncationException divergent={epochs-0=OffsetAndMetadata{offset=20, leaderEpoch=0, "
            + "metadata=''}}",
        "seek 25@0 earliest: position=20 records=0",
        "seek 5@7 none: LogTruncationException divergent={}",
        "seek 5@7 earliest: first=0 n=20 epochs=[Optional[0]]");

    @Test
    void idemlogValidatesPositionsAsKafkaDoes() throws Exception {
        try (IdemlogServer server = IdemlogServer.start(ServerConfig.of(Map.of(
                 "listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", dir.resolve("idemlog").toString(),
                 "create.topics", TOPIC + ":1", "metrics.listener", "http://127.0.0.1:0",
                 "metrics.jmx.enable", "false", "metrics.log.interval.ms", "0")),
                 (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l))) {
            List<String> seen = observe("127.0.0.1:" + server.port());
            System.out.println("idemlog: " + seen);
            double asked = MetricsScrape.of(server.metricsService().port())
                .sum("idemlog_requests_total", "api", "offset_for_leader_epoch");
            System.out.println("idemlog OffsetForLeaderEpoch requests: " + asked);
            assertTrue(asked >= 5, "the consumer validated its positions: " + asked + " OffsetForLeaderEpoch");
            assertEquals(EXPECTED, seen);
        }
    }

    /** The expectations are Kafka's: the same run against Kafka 4.1's own broker. */
    @Test
    void kafkaItselfBehavesSo() throws Exception {
        try (KafkaBroker kafka = KafkaBroker.builder(dir.resolve("kafka")).numPartitions(1).start()) {
            kafka.createTopic(TOPIC);
            List<String> seen = observe(kafka.bootstrap());
            System.out.println("kafka: " + seen);
            assertEquals(EXPECTED, seen);
        }
    }
}
