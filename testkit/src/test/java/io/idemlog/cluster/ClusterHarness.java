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
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
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
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * What the cluster fault tests (ClusterStopTest, ClusterPartitionTest) share: three idemlog server processes on
 * 127.0.0.1 in cluster mode (RF=3, min.insync.replicas=2), an Admin, a paced kafka-clients producer that records
 * every acknowledgement, the read-back and its checks, and the per-group segment digests. Written after
 * ClusterFailoverTest's harness (not shared with it: another helper owns that file). Not thread-safe: the test thread
 * drives it; {@link Load} runs its own thread.
 */
final class ClusterHarness implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(90);
    static final int PARTITIONS = 8;

    final ServerProcess[] nodes = new ServerProcess[3];
    private final Path dir;

    /** More server settings for every node (a test's own), applied after the harness's. */
    final Map<String, String> overrides = new java.util.LinkedHashMap<>();

    /** Where the nodes' logs are kept after the test (target/NAME/nodeN.log), null: in the temporary directory. */
    private final Path logs;

    ClusterHarness(Path dir) {
        this(dir, null);
    }

    /** @param name the test's name: the nodes' logs are kept in target/NAME/ (a failed run's timeline survives) */
    ClusterHarness(Path dir, String name) {
        this.dir = dir;
        this.logs = name == null ? null : Path.of("target", name);
    }

    /**
     * Starts the three nodes. {@code votersPorts[i]} is node i+1's Raft endpoint as the others reach it (its
     * controller.quorum.voters entry); {@code listenPorts}, if not null, the port node i+1's Raft server binds
     * (replication.listen.port), when the voters entry is a proxy in front of it.
     */
    void start(int[] votersPorts, int[] listenPorts) {
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(votersPorts[i]);
        }
        for (int i = 0; i < 3; i++) {
            ServerProcess.Builder b = ServerProcess.builder(dir.resolve("data" + (i + 1)))
                .jvmArgs("-Xms64m", "-Xmx384m")
                .override("node.id", Integer.toString(i + 1))
                .override("controller.quorum.voters", voters.toString())
                .override("default.replication.factor", "3")
                .override("min.insync.replicas", "2")
                .override("auto.create.topics.enable", "false")
                .startupTimeout(Duration.ofSeconds(180))
                .stopTimeout(Duration.ofSeconds(30));
            if (listenPorts != null) {
                b.override("replication.listen.port", Integer.toString(listenPorts[i]));
            }
            overrides.forEach(b::override);
            if (logs != null) {
                try {
                    Files.createDirectories(logs);
                    Path log = logs.resolve("node" + (i + 1) + ".log");
                    Files.deleteIfExists(log);
                    b.logFile(log);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            nodes[i] = b.build();
        }
        for (ServerProcess n : nodes) {
            n.start();
        }
    }

    /** Starts the nodes with their Raft servers on fresh ports, no proxy. */
    void start() {
        int[] raft = new int[3];
        for (int i = 0; i < 3; i++) {
            raft[i] = Ports.freePort();
        }
        start(raft, null);
    }

    /**
     * Starts the nodes with their Raft links through a new {@link RaftLinkProxy} (each node's voters entry is its
     * proxy listener; the node binds a fresh replication.listen.port behind it); the caller closes the proxy.
     */
    RaftLinkProxy startBehindProxy() throws IOException {
        int[] listen = new int[3];
        java.util.function.LongSupplier[] pids = new java.util.function.LongSupplier[3];
        for (int i = 0; i < 3; i++) {
            listen[i] = Ports.freePort();
            int index = i;
            pids[i] = () -> {
                ServerProcess n = nodes[index];
                return n != null && n.isAlive() ? n.pid() : -1;
            };
        }
        RaftLinkProxy proxy = new RaftLinkProxy(listen, pids);
        int[] voters = new int[3];
        for (int i = 0; i < 3; i++) {
            voters[i] = proxy.listenerPortOf(i + 1);
        }
        start(voters, listen);
        return proxy;
    }

    String bootstrap() {
        StringBuilder b = new StringBuilder();
        for (ServerProcess n : nodes) {
            b.append(b.length() == 0 ? "" : ",").append(n.bootstrap());
        }
        return b.toString();
    }

    Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        return Admin.create(p);
    }

    /** Waits for three registered brokers, then creates each topic with 8 partitions, RF 3, and waits for leaders. */
    void createTopics(Admin admin, String... topics) throws Exception {
        awaitThreeBrokers(admin);
        List<NewTopic> create = new ArrayList<>();
        for (String t : topics) {
            create.add(new NewTopic(t, PARTITIONS, (short) 3));
        }
        createTopics(admin, create);
        for (String t : topics) {
            awaitAllLed(admin, t, Set.of());
        }
    }

    /** Waits until DescribeCluster lists the three nodes as registered brokers. */
    static void awaitThreeBrokers(Admin admin) {
        Await.until("three brokers registered", TIMEOUT, () -> {
            try {
                return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() == 3;
            } catch (Exception e) {
                return false;
            }
        });
    }

    /**
     * Creates the topics, again while the node that handles it answers INVALID_REPLICATION_FACTOR: the node that
     * answered DescribeCluster with three brokers may have applied the third registration before the one that
     * handles CreateTopics has (a CI run failed so: "only 2 broker(s) are registered").
     */
    static void createTopics(Admin admin, List<NewTopic> create) {
        Await.until("topics " + create + " created", TIMEOUT, () -> {
            try {
                admin.createTopics(create).all().get(30, TimeUnit.SECONDS);
                return true;
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof org.apache.kafka.common.errors.InvalidReplicationFactorException) {
                    return false;
                }
                if (e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
                    return true; // an earlier attempt created them after all
                }
                throw new IllegalStateException(e);
            } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The partitions' leaders as Metadata reports them (-1 while a partition has none), or null on an error. */
    static int[] leaders(Admin admin, String topic) {
        try {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS)
                .get(topic);
            int[] out = new int[d.partitions().size()];
            for (TopicPartitionInfo p : d.partitions()) {
                out[p.partition()] = p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id();
            }
            return out;
        } catch (Exception e) {
            return null;
        }
    }

    /** Waits until Metadata names a leader for every partition of {@code topic}, none of them in {@code excluded}. */
    void awaitAllLed(Admin admin, String topic, Set<Integer> excluded) {
        Await.until(() -> topic + ": every partition led by a node not in " + excluded + "; " + diagnostics(),
            TIMEOUT, () -> {
                int[] l = leaders(admin, topic);
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

    String diagnostics() {
        StringBuilder b = new StringBuilder();
        if (logs != null) {
            b.append("\nthe nodes' whole logs: ").append(logs.toAbsolutePath());
        }
        for (int i = 0; i < 3; i++) {
            if (nodes[i] != null) {
                b.append("\n--- node ").append(i + 1).append(" ---\n").append(nodes[i].logTail(6000));
            }
        }
        return b.toString();
    }

    /** Every record of {@code topic}, per partition, in offset order: {offset, seq}. */
    List<List<long[]>> readAll(String topic) {
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
                tps.add(new TopicPartition(topic, i));
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
    static long[] verify(List<List<long[]>> read, Map<Long, long[]> acked) {
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
    static Map<String, String> segmentDigests(Path dataDir) throws IOException {
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

    /**
     * What differs between the nodes' copies of every partition group whose segment digests differ: each node's
     * files of the group (name and size: segments, pending segments, snapshots, manifests) and, at the first batch
     * whose bytes differ, that batch's header on each node (offset, length, leader epoch, producer id/epoch/sequence,
     * record count, timestamps, CRC). A failure message that says what diverged, not only that something did.
     */
    static String divergence(ServerProcess[] nodes) {
        StringBuilder b = new StringBuilder();
        try {
            List<Map<String, String>> digests = new ArrayList<>();
            for (ServerProcess n : nodes) {
                digests.add(segmentDigests(n.dataDir()));
            }
            for (String group : digests.get(0).keySet()) {
                boolean same = true;
                for (int i = 1; i < nodes.length; i++) {
                    same &= digests.get(0).get(group).equals(digests.get(i).get(group));
                }
                if (same) {
                    continue;
                }
                b.append("\n  group ").append(group).append(':');
                List<byte[]> bytes = new ArrayList<>();
                for (int i = 0; i < nodes.length; i++) {
                    Path sm = nodes[i].dataDir().resolve("raft").resolve(group).resolve("sm");
                    b.append("\n    node ").append(i + 1).append(" files:");
                    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
                    try (Stream<Path> files = Files.list(sm)) {
                        for (Path f : files.sorted().toList()) {
                            b.append(' ').append(f.getFileName()).append('=').append(Files.size(f));
                            if (f.getFileName().toString().endsWith(".log")) {
                                all.write(Files.readAllBytes(f));
                            }
                        }
                    }
                    bytes.add(all.toByteArray());
                }
                b.append(firstDifferingBatch(bytes));
            }
        } catch (IOException | UncheckedIOException e) {
            b.append("\n  (cannot read the data directories: ").append(e).append(')');
        }
        return b.length() == 0 ? " (no group differs now)" : b.toString();
    }

    /** The first batch (by position) whose bytes are not the same on every node, its header on each. */
    private static String firstDifferingBatch(List<byte[]> logs) {
        int pos = 0;
        while (true) {
            java.nio.ByteBuffer first = null;
            boolean differ = false;
            boolean anyLeft = false;
            int len0 = -1;
            for (byte[] l : logs) {
                if (pos + 12 > l.length) {
                    differ |= anyLeft;
                    continue;
                }
                anyLeft = true;
                java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(l);
                int len = 12 + bb.getInt(pos + 8);
                if (len0 < 0) {
                    len0 = len;
                    first = bb;
                } else if (len != len0 || pos + len > l.length || first.array().length < pos + len0
                    || !java.util.Arrays.equals(l, pos, pos + len, first.array(), pos, pos + len0)) {
                    differ = true;
                }
            }
            if (!anyLeft) {
                return "\n    no batch differs (the lengths differ only past the common end)";
            }
            if (differ) {
                StringBuilder b = new StringBuilder("\n    first differing batch at byte " + pos + ':');
                for (int i = 0; i < logs.size(); i++) {
                    byte[] l = logs.get(i);
                    b.append("\n      node ").append(i + 1).append(": ");
                    if (pos + 61 > l.length) {
                        b.append("ends at byte ").append(l.length);
                        continue;
                    }
                    java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(l);
                    b.append("baseOffset ").append(h.getLong(pos)).append(" length ").append(h.getInt(pos + 8))
                        .append(" leaderEpoch ").append(h.getInt(pos + 12)).append(" crc ")
                        .append(Integer.toHexString(h.getInt(pos + 17))).append(" attributes ")
                        .append(h.getShort(pos + 21)).append(" lastOffsetDelta ").append(h.getInt(pos + 23))
                        .append(" baseTimestamp ").append(h.getLong(pos + 27)).append(" maxTimestamp ")
                        .append(h.getLong(pos + 35)).append(" producer ").append(h.getLong(pos + 43)).append('/')
                        .append(h.getShort(pos + 51)).append(" baseSequence ").append(h.getInt(pos + 53))
                        .append(" records ").append(h.getInt(pos + 57));
                }
                return b.toString();
            }
            pos += len0;
        }
    }

    /**
     * Waits (with the writers stopped) until every node's partition groups hold the same segment bytes: a replica
     * that was cut off or frozen may still be catching up when the test is done reading from the leaders, and a
     * clean stop then would compare a lagging replica. Returns the ms it took; throws naming the groups that still
     * differ after the timeout (a replica that never catches up is a finding, not a lag).
     */
    long awaitReplicasConverged() {
        long t0 = System.nanoTime();
        String[] last = {""};
        Await.until(() -> "replicas converge (segments identical on the 3 nodes); differing: " + last[0]
            + divergence(nodes), TIMEOUT,
            () -> {
                try {
                    Map<String, String> first = segmentDigests(nodes[0].dataDir());
                    StringBuilder diff = new StringBuilder();
                    for (int i = 1; i < 3; i++) {
                        Map<String, String> other = segmentDigests(nodes[i].dataDir());
                        for (Map.Entry<String, String> e : first.entrySet()) {
                            if (!e.getValue().equals(other.get(e.getKey()))) {
                                diff.append(" node ").append(i + 1).append(':').append(e.getKey());
                            }
                        }
                        if (other.size() != first.size()) {
                            diff.append(" node ").append(i + 1).append(" groups ").append(other.size());
                        }
                    }
                    last[0] = diff.toString();
                    return diff.length() == 0;
                } catch (IOException | UncheckedIOException e) {
                    last[0] = e.toString(); // a file rolled or deleted while read
                    return false;
                }
            });
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    /** After a clean stop: {@code groups} partition groups on node 1, their segments byte-identical on all three. */
    void assertSegmentsIdentical(int groups) throws IOException {
        Map<String, String> first = segmentDigests(nodes[0].dataDir());
        org.junit.jupiter.api.Assertions.assertEquals(groups, first.size(), "partition groups on node 1: " + first);
        for (int i = 1; i < 3; i++) {
            int n = i;
            org.junit.jupiter.api.Assertions.assertEquals(first, segmentDigests(nodes[i].dataDir()),
                () -> "node " + (n + 1) + "'s segments" + divergence(nodes));
        }
    }

    /** Stops every node cleanly (SIGTERM) and returns the names of those that did not exit on it. */
    List<String> stopAll() {
        List<String> unclean = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            if (nodes[i] != null && !nodes[i].stop()) {
                unclean.add("node " + (i + 1));
            }
        }
        return unclean;
    }

    @Override
    public void close() {
        for (ServerProcess n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    /**
     * A producer thread: record "seq" to partition seq % 8 of its topic (at most {@code rate} a second), and what
     * the answers said.
     */
    static final class Load {
        final String topic;
        final KafkaProducer<byte[], byte[]> producer;
        final Map<Long, long[]> acked = new ConcurrentHashMap<>(); // seq -> {partition, offset}
        final AtomicLong failed = new AtomicLong();
        final AtomicLong seq = new AtomicLong();
        final AtomicLongArray firstAckAfter = new AtomicLongArray(PARTITIONS); // nanos, 0 = none yet
        final AtomicLongArray threshold = new AtomicLongArray(PARTITIONS); // seq of the fault
        final Semaphore window = new Semaphore(2000);
        private final long rate;
        final Thread thread;
        volatile boolean stop;
        volatile Throwable error;

        Load(String bootstrap, String topic, boolean idempotent, long rate) {
            this.topic = topic;
            this.rate = rate;
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(idempotent));
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
            p.put(ProducerConfig.RETRIES_CONFIG, Integer.toString(Integer.MAX_VALUE));
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
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
            thread = new Thread(this::run, "cluster-load-" + topic);
            thread.start();
        }

        private void run() {
            long t0 = System.nanoTime();
            try {
                while (!stop) {
                    // at most `rate` records a second: keeps the logs (what the test reads back) small enough for
                    // the test's time; a pacing pause, not a synchronisation
                    if (seq.get() * 1_000_000_000L / rate > System.nanoTime() - t0) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                        continue;
                    }
                    if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                    long s = seq.getAndIncrement();
                    int partition = (int) (s % PARTITIONS);
                    producer.send(new ProducerRecord<>(topic, partition, null,
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

        /** Marks a fault on {@code partition}'s leader: the next records to it are sent after it. Returns now. */
        long markFault(int partition) {
            firstAckAfter.set(partition, 0);
            long at = System.nanoTime();
            threshold.set(partition, seq.get());
            return at;
        }

        /** Whether a record sent to {@code partition} after the last {@link #markFault} was acknowledged. */
        boolean ackedAfterFault(int partition) {
            return firstAckAfter.get(partition) != 0;
        }

        void awaitAckAfterFault(int partition, java.util.function.Supplier<String> what) {
            Await.until(what, TIMEOUT, () -> firstAckAfter.get(partition) != 0);
        }

        void awaitAcked(long count) {
            Await.until(topic + ": at least " + count + " acknowledged (now " + acked.size() + ", failed "
                + failed.get() + ")", TIMEOUT, () -> acked.size() >= count);
        }

        /** As above; on a timeout the message also carries {@code more} (e.g. the nodes' log tails). */
        void awaitAcked(long count, java.util.function.Supplier<String> more) {
            Await.until(() -> topic + ": at least " + count + " acknowledged (now " + acked.size() + ", failed "
                + failed.get() + ", per partition last acknowledged " + lastAckedPerPartition() + "); "
                + more.get(), TIMEOUT, () -> acked.size() >= count);
        }

        /**
         * What the producer knows now: per partition its leader in the client's metadata cache, the highest offset
         * acknowledged, whether a record sent after the last fault was acknowledged; and the sends outstanding.
         */
        String view() {
            StringBuilder b = new StringBuilder(topic).append(": ");
            try {
                for (org.apache.kafka.common.PartitionInfo i : producer.partitionsFor(topic)) {
                    b.append('p').append(i.partition()).append(" leader ")
                        .append(i.leader() == null ? "none" : Integer.toString(i.leader().id())).append(", ");
                }
            } catch (RuntimeException e) {
                b.append("(no metadata: ").append(e).append(") ");
            }
            StringBuilder after = new StringBuilder();
            for (int p = 0; p < PARTITIONS; p++) {
                after.append(ackedAfterFault(p) ? '+' : '-');
            }
            return b.append("last acknowledged ").append(lastAckedPerPartition()).append(", acknowledged after the "
                + "fault ").append(after).append(", ").append(2000 - window.availablePermits())
                .append(" sends outstanding, ").append(failed.get()).append(" failed").toString();
        }

        /** Per partition, the highest offset acknowledged so far (where a stalled partition shows). */
        String lastAckedPerPartition() {
            long[] last = new long[PARTITIONS];
            java.util.Arrays.fill(last, -1);
            for (long[] a : acked.values()) {
                int p = (int) a[0];
                if (p >= 0 && p < PARTITIONS) {
                    last[p] = Math.max(last[p], a[1]);
                }
            }
            return java.util.Arrays.toString(last);
        }

        /** The producer's total of a producer-metrics metric (record-retry-total, record-error-total...). */
        double metric(String name) {
            for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
                if (e.getKey().name().equals(name) && e.getKey().group().equals("producer-metrics")) {
                    return ((Number) e.getValue().metricValue()).doubleValue();
                }
            }
            return Double.NaN;
        }

        void close() throws InterruptedException {
            stop = true;
            thread.join(TimeUnit.SECONDS.toMillis(30));
            producer.flush();
            producer.close(Duration.ofSeconds(60));
        }
    }

    /**
     * How many times Ratis logged (at WARN, the level the server logs Ratis at), in this node's log, a leader
     * division stepping down: "Lost leadership on term" (no majority heard within the election timeout) or a
     * follower's NOT_LEADER answer carrying a higher term.
     */
    static long stepDowns(ServerProcess n) throws IOException {
        long count = 0;
        for (String line : Files.readAllLines(n.logFile(), StandardCharsets.UTF_8)) {
            if (line.contains("Lost leadership on term") || line.contains("received NOT_LEADER reply with term")) {
                count++;
            }
        }
        return count;
    }

    /** The partitions of {@code leaders} led by {@code node}. */
    static List<Integer> ledBy(int[] leaders, int node) {
        List<Integer> out = new ArrayList<>();
        for (int p = 0; p < leaders.length; p++) {
            if (leaders[p] == node) {
                out.add(p);
            }
        }
        return out;
    }

    static long sum(Collection<List<long[]>> read) {
        long n = 0;
        for (List<long[]> l : read) {
            n += l.size();
        }
        return n;
    }
}
