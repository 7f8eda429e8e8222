package io.idemlog.cluster;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.Ports;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/REPLICATION.md section 8 item 1: three idemlog server processes on 127.0.0.1 in cluster mode, a topic with 8
 * partitions and replication factor 3 (min.insync.replicas=2), a kafka-clients idempotent producer (acks=all,
 * 5 in flight) writing while the leader of a rotating partition is SIGKILLed 10 times (restarted on its storage each
 * time). Then every acknowledged record is read back once, at the offset its producer was told, in order; no record
 * twice; each partition's segment bytes identical on the three nodes; the failover time of each kill (kill -> first
 * acknowledgement of a record sent after the kill to that partition) reported and bounded. Control: the same with
 * enable.idempotence=false stores re-sent records twice.
 */
@Tag("slow")
class ClusterFailoverTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String TOPIC = "events";
    private static final int PARTITIONS = 8;
    /** The producer's records per second at most. */
    private static final long RATE = 2000;

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
        int[] raft = new int[3];
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            raft[i] = Ports.freePort();
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(raft[i]);
        }
        for (int i = 0; i < 3; i++) {
            nodes[i] = ServerProcess.builder(dir.resolve("data" + (i + 1)))
                .jvmArgs("-Xms64m", "-Xmx384m")
                .override("node.id", Integer.toString(i + 1))
                .override("controller.quorum.voters", voters.toString())
                .override("default.replication.factor", "3")
                .override("min.insync.replicas", "2")
                .override("auto.create.topics.enable", "false")
                .startupTimeout(Duration.ofSeconds(180)) // a restart replays the partition groups; slow at load 20+
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
            b.append(b.length() == 0 ? "" : ",").append(n.bootstrap());
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

    /** The partitions' leaders as Metadata reports them (-1 while a partition has none), or null on an error. */
    private static int[] leaders(Admin admin) {
        try {
            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(20, TimeUnit.SECONDS)
                .get(TOPIC);
            int[] out = new int[PARTITIONS];
            for (TopicPartitionInfo p : d.partitions()) {
                out[p.partition()] = p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id();
            }
            return out;
        } catch (Exception e) {
            return null;
        }
    }

    private void awaitAllLed(Admin admin, Set<Integer> excluded) {
        Await.until(() -> "every partition led by a live node; " + diagnostics(), TIMEOUT, () -> {
            int[] l = leaders(admin);
            if (l == null) {
                return false;
            }
            for (int x : l) {
                if (x < 0 || excluded.contains(x)) {
                    return false;
                }
            }
            return true;
        });
    }

    private String diagnostics() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            b.append("\n--- node ").append(i + 1).append(" ---\n").append(nodes[i].logTail(2500));
        }
        return b.toString();
    }

    /** A producer thread: records "seq" to partition seq % 8, and what the answers said. */
    private static final class Load {
        final KafkaProducer<byte[], byte[]> producer;
        final Map<Long, long[]> acked = new ConcurrentHashMap<>(); // seq -> {partition, offset}
        final AtomicLong failed = new AtomicLong();
        final AtomicLong seq = new AtomicLong();
        final AtomicLongArray firstAckAfter = new AtomicLongArray(PARTITIONS); // nanos, 0 = none yet
        final AtomicLongArray threshold = new AtomicLongArray(PARTITIONS); // seq of the kill
        final Semaphore window = new Semaphore(2000);
        final Thread thread;
        volatile boolean stop;
        volatile Throwable error;

        Load(String bootstrap, boolean idempotent) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(idempotent));
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
            p.put(ProducerConfig.RETRIES_CONFIG, Integer.toString(Integer.MAX_VALUE));
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "50");
            p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
            p.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, "5000");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            producer = new KafkaProducer<>(p);
            for (int i = 0; i < PARTITIONS; i++) {
                threshold.set(i, Long.MAX_VALUE);
            }
            thread = new Thread(this::run, "cluster-load");
            thread.start();
        }

        private void run() {
            long t0 = System.nanoTime();
            try {
                while (!stop) {
                    // at most RATE records a second: keeps the logs (what a restarted node replays, what the test
                    // reads back) small enough for the test's time; a pacing pause, not a synchronisation
                    if (seq.get() * 1_000_000_000L / RATE > System.nanoTime() - t0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                        continue;
                    }
                    if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                    long s = seq.getAndIncrement();
                    int partition = (int) (s % PARTITIONS);
                    producer.send(new ProducerRecord<>(TOPIC, partition, null,
                        Long.toString(s).getBytes(StandardCharsets.US_ASCII)), (md, e) -> {
                            window.release();
                            if (e != null) {
                                failed.incrementAndGet();
                                return;
                            }
                            acked.put(s, new long[] {md.partition(), md.offset()});
                            if (s > threshold.get(partition)) {
                                firstAckAfter.compareAndSet(partition, 0, System.nanoTime());
                            }
                        });
                }
            } catch (Throwable t) {
                error = t;
            }
        }

        /** Marks the kill of {@code partition}'s leader: the next records to it are sent after it. */
        long markKill(int partition) {
            firstAckAfter.set(partition, 0);
            long at = System.nanoTime();
            threshold.set(partition, seq.get());
            return at;
        }

        void awaitAckAfterKill(int partition, String what) {
            Await.until(what, TIMEOUT, () -> firstAckAfter.get(partition) != 0);
        }

        void awaitAcked(long count) {
            Await.until("at least " + count + " acknowledged (now " + acked.size() + ", failed " + failed.get() + ")",
                TIMEOUT, () -> acked.size() >= count);
        }

        void close() throws InterruptedException {
            stop = true;
            thread.join(TimeUnit.SECONDS.toMillis(30));
            producer.flush();
            producer.close(Duration.ofSeconds(60));
        }
    }

    /** Every record of the topic, per partition, in offset order: {offset, seq}. */
    private List<List<long[]>> readAll() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        List<List<long[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < PARTITIONS; i++) {
                tps.add(new TopicPartition(TOPIC, i));
                out.add(new ArrayList<>());
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(60));
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (true) {
                boolean done = true;
                for (TopicPartition tp : tps) {
                    done &= c.position(tp, Duration.ofSeconds(30)) >= end.get(tp);
                }
                if (done) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read up to " + end);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    out.get(r.partition()).add(new long[] {r.offset(),
                        Long.parseLong(new String(r.value(), StandardCharsets.US_ASCII))});
                }
            }
        }
        return out;
    }

    /** Checks of a read-back against the acknowledgements: {duplicates, missing, wrong offset, out of order}. */
    private static long[] verify(List<List<long[]>> read, Map<Long, long[]> acked) {
        Map<Long, long[]> where = new HashMap<>();
        long duplicates = 0;
        long outOfOrder = 0;
        for (int p = 0; p < read.size(); p++) {
            long last = -1;
            for (long[] r : read.get(p)) {
                if (where.put(r[1], new long[] {p, r[0]}) != null) {
                    duplicates++;
                }
                if (r[1] <= last) {
                    outOfOrder++;
                }
                last = Math.max(last, r[1]);
            }
        }
        long missing = 0;
        long wrongOffset = 0;
        for (Map.Entry<Long, long[]> a : acked.entrySet()) {
            long[] w = where.get(a.getKey());
            if (w == null) {
                missing++;
            } else if (w[0] != a.getValue()[0] || w[1] != a.getValue()[1]) {
                wrongOffset++;
            }
        }
        return new long[] {duplicates, missing, wrongOffset, outOfOrder};
    }

    /** Per partition group directory (the group id), a digest of its segment files' bytes in offset order. */
    private static Map<String, String> segmentDigests(Path dataDir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Path raft = dataDir.resolve("raft");
        try (Stream<Path> groups = Files.list(raft)) {
            for (Path g : (Iterable<Path>) groups::iterator) {
                Path sm = g.resolve("sm");
                if (!Files.exists(sm.resolve("partition.properties"))) {
                    continue; // the metadata group
                }
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                try (Stream<Path> files = Files.walk(sm)) {
                    List<Path> logs = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted()
                        .toList();
                    for (Path f : logs) {
                        md.update(Files.readAllBytes(f));
                    }
                }
                out.put(g.getFileName().toString(), HexFormat.of().formatHex(md.digest()));
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return out;
    }

    /** Kills the leader of a rotating partition {@code kills} times; returns the failover times in ms. */
    private List<Long> killLeaders(Admin admin, Load load, int kills, java.util.function.BooleanSupplier enough) {
        List<Long> failovers = new ArrayList<>();
        for (int round = 0; round < kills && !enough.getAsBoolean(); round++) {
            int partition = round % PARTITIONS;
            awaitAllLed(admin, Set.of());
            int leader = leaders(admin)[partition];
            load.awaitAcked(load.acked.size() + 200);
            long killedAt = load.markKill(partition);
            nodes[leader - 1].kill();
            load.awaitAckAfterKill(partition, "round " + round + ": an acknowledgement for partition " + partition
                + " after node " + leader + " was killed; " + diagnostics());
            long ms = TimeUnit.NANOSECONDS.toMillis(load.firstAckAfter.get(partition) - killedAt);
            failovers.add(ms);
            System.out.printf("round %d: partition %d leader node %d SIGKILLed, failover %d ms, %d acknowledged%n",
                round, partition, leader, ms, load.acked.size());
            nodes[leader - 1].start();
            awaitAllLed(admin, Set.of());
        }
        return failovers;
    }

    @Test
    void everyAcknowledgedRecordOnceThroughTenLeaderKills() throws Exception {
        startCluster();
        List<Long> failovers;
        Load load;
        try (Admin admin = admin()) {
            Await.until("three brokers registered", TIMEOUT, () -> {
                try {
                    return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() == 3;
                } catch (Exception e) {
                    return false;
                }
            });
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(30, TimeUnit.SECONDS);
            awaitAllLed(admin, Set.of());
            load = new Load(bootstrap(), true);
            try {
                load.awaitAcked(2000);
                failovers = killLeaders(admin, load, 10, () -> false);
                load.awaitAcked(load.acked.size() + 2000);
            } finally {
                load.close();
            }
            awaitAllLed(admin, Set.of());
        }
        assertEquals(null, load.error);
        List<List<long[]>> read = readAll();
        long[] v = verify(read, load.acked);
        long total = read.stream().mapToLong(List::size).sum();
        System.out.printf("idempotent: %d sent, %d acknowledged, %d failed, %d read; duplicates %d, missing %d, "
            + "wrong offset %d, out of order %d; failover ms %s%n", load.seq.get(), load.acked.size(),
            load.failed.get(), total, v[0], v[1], v[2], v[3], failovers);
        assertEquals(10, failovers.size());
        assertEquals(0, load.failed.get(), "sends that failed");
        assertEquals(0, v[0], "records stored twice");
        assertEquals(0, v[1], "acknowledged records missing");
        assertEquals(0, v[2], "records not at the offset their producer was told");
        assertEquals(0, v[3], "records out of order within a partition");
        for (long ms : failovers) {
            assertTrue(ms < 30_000, "failover took " + ms + " ms: " + failovers);
        }
        // every replica byte-identical: stop cleanly, compare each partition group's segments on the three nodes
        for (ServerProcess n : nodes) {
            assertTrue(n.stop(), "clean stop of " + n);
        }
        Map<String, String> first = segmentDigests(nodes[0].dataDir());
        assertEquals(PARTITIONS, first.size(), "partition groups on node 1: " + first);
        for (int i = 1; i < 3; i++) {
            assertEquals(first, segmentDigests(nodes[i].dataDir()), "node " + (i + 1) + "'s segments");
        }
    }

    @Test
    void controlWithoutIdempotenceTheKillsStoreRecordsTwice() throws Exception {
        startCluster();
        Load load;
        try (Admin admin = admin()) {
            Await.until("three brokers registered", TIMEOUT, () -> {
                try {
                    return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() == 3;
                } catch (Exception e) {
                    return false;
                }
            });
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(30, TimeUnit.SECONDS);
            awaitAllLed(admin, Set.of());
            load = new Load(bootstrap(), false);
            try {
                load.awaitAcked(2000);
                killLeaders(admin, load, 5, () -> false);
            } finally {
                load.close();
            }
            List<List<long[]>> read = readAll();
            long[] v = verify(read, load.acked);
            System.out.printf("control (idempotence off): %d acknowledged, duplicates %d, missing %d%n",
                load.acked.size(), v[0], v[1]);
            assertTrue(v[0] > 0, "without idempotence the kills must store some re-sent record twice");
        }
    }
}
