package io.idemlog.cluster;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.testkit.Await;
import io.idemlog.testkit.ChildJvm;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/REPLICATION.md section 8 item 1 (issue 13 acceptance 1): three idemlog server processes on 127.0.0.1 in
 * cluster mode and four concurrent writers, each to its own topic of 8 partitions with replication factor 3
 * (min.insync.replicas=2): a kafka-clients idempotent producer (acks=all, 5 in flight), kcat (librdkafka,
 * enable.idempotence=true, acks=all), the idemlog producer (bootstrap = the three nodes) and, as the control, a
 * kafka-clients producer with enable.idempotence=false. Meanwhile the leader of a rotating partition of the
 * kafka-clients topic is SIGKILLed 10 times (restarted on its storage each time, before the next kill). Then, per
 * idempotent writer, every acknowledged record is read back once, at the offset its producer was told, in order,
 * no record twice (stored - distinct = 0); every partition group's segment bytes identical on the three nodes; the
 * failover time of each kill per writer (kill -> first acknowledgement of a record sent after the kill, for every
 * partition of its topic that the killed node led) printed and bounded. The control, in the same run, must have
 * stored some re-sent record twice.
 *
 * <p>kcat: skipped with a message when it is not on the PATH, unless IDEMLOG_REQUIRE_KCAT is set (CI sets it).
 * Its acknowledgements are its delivery reports (-v -v: "Message delivered to partition P (offset O)"), in send
 * order per partition, matched to the lines sent to that partition (the partition of a keyed line is librdkafka's
 * consistent_random partitioner: CRC-32 of the key modulo the partition count).
 *
 * <p>The servers' logs are kept in target/ClusterFailoverTest/ (the failover timeline: "leader now", "leads,
 * ready", "proposing LeaderChanged", "leader of ... at epoch").
 */
@Tag("slow")
class ClusterFailoverTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String TOPIC = "events";
    private static final String KCAT_TOPIC = "events-kcat";
    private static final String IDEMLOG_TOPIC = "events-idemlog";
    private static final String CONTROL_TOPIC = "events-control";
    private static final int PARTITIONS = 8;
    /** Leader SIGKILLs: issue 13 asks for at least 10 (-Didemlog.failover.kills=N: a shorter look, developing). */
    private static final int KILLS = Integer.getInteger("idemlog.failover.kills", 10);
    /** Each writer's records per second at most. */
    private static final long RATE = 250;
    private static final Path LOGS = Path.of("target", "ClusterFailoverTest");

    @TempDir
    Path dir;
    private final ServerProcess[] nodes = new ServerProcess[3];
    private final List<Writer> writers = new ArrayList<>();

    @AfterEach
    void stopAll() {
        for (Writer w : writers) {
            w.abort();
        }
        for (ServerProcess n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    private void startCluster() throws IOException {
        int[] raft = new int[3];
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            raft[i] = Ports.freePort();
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(raft[i]);
        }
        Files.createDirectories(LOGS);
        for (int i = 0; i < 3; i++) {
            Path log = LOGS.resolve("node" + (i + 1) + ".log");
            Files.deleteIfExists(log);
            nodes[i] = ServerProcess.builder(dir.resolve("data" + (i + 1)))
                // C1 only and the serial collector: a (re)start JITs and collects less on the 2 shared cores, and
                // the test's load (a few thousand records a second) needs no C2
                .jvmArgs("-Xms64m", "-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
                .override("node.id", Integer.toString(i + 1))
                .override("controller.quorum.voters", voters.toString())
                .override("default.replication.factor", "3")
                .override("min.insync.replicas", "2")
                .override("auto.create.topics.enable", "false")
                // segment files hold exactly their data (no zeros ahead): awaitCaughtUp compares their sizes
                .override("log.preallocate", "false")
                .logFile(log)
                .startupTimeout(Duration.ofSeconds(180)) // a restart replays the partition groups; slow at load 20+
                .stopTimeout(Duration.ofSeconds(30))
                .build();
        }
        startAll(List.of(nodes));
    }

    /** Starts the servers at the same time (each start waits until its Kafka port answers). */
    private static void startAll(List<ServerProcess> servers) {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (ServerProcess n : servers) {
            Thread t = new Thread(() -> {
                try {
                    n.start();
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "start-" + n.port());
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(240));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException("a server did not start", errors.get(0));
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

    /** Per topic, the partitions' leaders as Metadata reports them (-1 while a partition has none); null on error. */
    private static Map<String, int[]> leaders(Admin admin, List<String> topics) {
        try {
            Map<String, TopicDescription> all = admin.describeTopics(topics).allTopicNames().get(20, TimeUnit.SECONDS);
            Map<String, int[]> out = new HashMap<>();
            for (String topic : topics) {
                int[] l = new int[PARTITIONS];
                for (TopicPartitionInfo p : all.get(topic).partitions()) {
                    l[p.partition()] = p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id();
                }
                out.put(topic, l);
            }
            return out;
        } catch (Exception e) {
            return null;
        }
    }

    private Map<String, int[]> awaitAllLed(Admin admin, List<String> topics) {
        java.util.concurrent.atomic.AtomicReference<Map<String, int[]>> seen =
            new java.util.concurrent.atomic.AtomicReference<>();
        Await.until(() -> "every partition led by a live node; " + diagnostics(), TIMEOUT, () -> {
            Map<String, int[]> l = leaders(admin, topics);
            if (l == null) {
                return false;
            }
            for (int[] ps : l.values()) {
                for (int x : ps) {
                    if (x < 1 || !nodes[x - 1].isAlive()) {
                        return false;
                    }
                }
            }
            seen.set(l);
            return true;
        });
        return seen.get();
    }

    private String diagnostics() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            b.append("\n--- node ").append(i + 1).append(" ---\n").append(nodes[i].logTail(2500));
        }
        for (Writer w : writers) {
            b.append("\n--- ").append(w.name).append(": ").append(w.acked.size()).append(" acknowledged, ")
                .append(w.failed.get()).append(" failed (first: ").append(w.firstFailure).append("), error ")
                .append(w.error).append(", no acknowledgement since the kill on");
            for (int p = 0; p < PARTITIONS; p++) {
                if (w.threshold.get(p) != Long.MAX_VALUE && w.firstAckAfter.get(p) == 0) {
                    b.append(' ').append(w.topic).append('-').append(p);
                }
            }
        }
        return b.toString();
    }

    /**
     * A writer of records "seq" (its own counter) to its topic, and what the acknowledgements said: seq -> {partition,
     * offset} (offset -1: acknowledged without one). Per partition the nanoTime of the first acknowledgement of a
     * record sent after the last {@link #markKill}.
     */
    private abstract static class Writer {
        final String name;
        final String topic;
        final Map<Long, long[]> acked = new ConcurrentHashMap<>();
        final AtomicLong failed = new AtomicLong();
        volatile Throwable firstFailure;
        final AtomicLong seq = new AtomicLong();
        final AtomicLongArray firstAckAfter = new AtomicLongArray(PARTITIONS); // nanos, 0 = none yet
        final AtomicLongArray threshold = new AtomicLongArray(PARTITIONS); // first seq sent after the kill
        /** Per kill, the failover of each partition of this topic the killed node led, in ms. */
        final List<long[]> failovers = new ArrayList<>();
        volatile boolean stop;
        volatile Throwable error;

        Writer(String name, String topic) {
            this.name = name;
            this.topic = topic;
            for (int i = 0; i < PARTITIONS; i++) {
                threshold.set(i, Long.MAX_VALUE);
            }
        }

        final void onFailure(Throwable e) {
            if (failed.getAndIncrement() == 0) {
                firstFailure = e;
            }
        }

        final void onAck(long s, int partition, long offset) {
            acked.put(s, new long[] {partition, offset});
            if (s >= threshold.get(partition)) {
                firstAckAfter.compareAndSet(partition, 0, System.nanoTime());
            }
        }

        /** The kill of the leader of {@code partitions} (of this topic) comes next. */
        final void markKill(int[] partitions) {
            for (int p : partitions) {
                firstAckAfter.set(p, 0);
                threshold.set(p, seq.get());
            }
        }

        final boolean ackedAfterKill(int[] partitions) {
            for (int p : partitions) {
                if (firstAckAfter.get(p) == 0) {
                    return false;
                }
            }
            return true;
        }

        final void awaitAcked(long count) {
            Await.until(() -> name + ": at least " + count + " acknowledged (now " + acked.size() + ", failed "
                + failed.get() + ", error " + error + ")", TIMEOUT, () -> acked.size() >= count || error != null);
        }

        /** At most RATE records a second since {@code t0}: whether the next may go now (a pacing check). */
        final boolean paced(long t0) {
            return seq.get() * 1_000_000_000L / RATE <= System.nanoTime() - t0;
        }

        /** Stops sending and waits until everything sent is answered (or failed). */
        abstract void close() throws Exception;

        /** Best effort, for @AfterEach after a failure. */
        abstract void abort();
    }

    /** kafka-clients' producer, idempotent or not. */
    private static final class KafkaWriter extends Writer {
        final KafkaProducer<byte[], byte[]> producer;
        final Semaphore window = new Semaphore(2000);
        final Thread thread;

        KafkaWriter(String bootstrap, String topic, boolean idempotent) {
            super(idempotent ? "kafka-clients" : "control (kafka-clients, idempotence off)", topic);
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
            thread = new Thread(this::run, "cluster-load-" + topic);
            thread.start();
        }

        private void run() {
            long t0 = System.nanoTime();
            try {
                while (!stop) {
                    // keeps the logs (what a restarted node replays, what the test reads back) small enough for
                    // the test's time; a pacing pause, not a synchronisation
                    if (!paced(t0)) {
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
                                onFailure(e);
                            } else {
                                onAck(s, md.partition(), md.offset());
                            }
                        });
                }
            } catch (Throwable t) {
                error = t;
            }
        }

        @Override
        void close() throws InterruptedException {
            stop = true;
            thread.join(TimeUnit.SECONDS.toMillis(30));
            producer.flush();
            producer.close(Duration.ofSeconds(60));
        }

        @Override
        void abort() {
            stop = true;
            producer.close(Duration.ZERO);
        }
    }

    /** The idemlog producer (producer-client), idempotent, acks=all. */
    private static final class IdemlogWriter extends Writer {
        final IdemlogProducer producer;
        final Semaphore window = new Semaphore(2000);
        final Thread thread;

        IdemlogWriter(String bootstrap, String topic) {
            super("idemlog producer", topic);
            Properties p = new Properties();
            p.put(io.idemlog.client.ProducerConfig.BOOTSTRAP_SERVERS, bootstrap);
            p.put(io.idemlog.client.ProducerConfig.ACKS, "all");
            p.put(io.idemlog.client.ProducerConfig.ENABLE_IDEMPOTENCE, "true");
            p.put(io.idemlog.client.ProducerConfig.MAX_IN_FLIGHT, "5");
            p.put(io.idemlog.client.ProducerConfig.LINGER_MS, "5");
            p.put(io.idemlog.client.ProducerConfig.DELIVERY_TIMEOUT_MS, "120000");
            p.put(io.idemlog.client.ProducerConfig.REQUEST_TIMEOUT_MS, "10000");
            p.put(io.idemlog.client.ProducerConfig.RETRY_BACKOFF_MS, "50");
            p.put(io.idemlog.client.ProducerConfig.RECONNECT_BACKOFF_MAX_MS, "500");
            p.put(io.idemlog.client.ProducerConfig.METADATA_MAX_AGE_MS, "5000");
            producer = IdemlogProducer.create(p);
            thread = new Thread(this::run, "cluster-load-" + topic);
            thread.start();
        }

        private void run() {
            long t0 = System.nanoTime();
            try {
                while (!stop) {
                    if (!paced(t0)) { // a pacing pause (see KafkaWriter), not a synchronisation
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                        continue;
                    }
                    if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                    long s = seq.getAndIncrement();
                    int partition = (int) (s % PARTITIONS);
                    producer.send(topic, partition, null, Long.toString(s).getBytes(StandardCharsets.US_ASCII),
                        null, (md, e) -> {
                            window.release();
                            if (e != null) {
                                onFailure(e);
                            } else {
                                onAck(s, md.partition(), md.offset());
                            }
                        });
                }
            } catch (Throwable t) {
                error = t;
            }
        }

        @Override
        void close() throws InterruptedException {
            stop = true;
            thread.join(TimeUnit.SECONDS.toMillis(30));
            producer.flush();
            producer.close(Duration.ofSeconds(60));
        }

        @Override
        void abort() {
            stop = true;
            producer.close(Duration.ZERO);
        }
    }

    /**
     * kcat -P reading "k&lt;seq&gt;:&lt;seq&gt;" lines from a pipe (key k&lt;seq&gt;, value seq); its delivery reports
     * (stderr) are the acknowledgements: per partition in send order, so the n-th report for partition P is the n-th
     * line sent to P.
     */
    private static final class KcatWriter extends Writer {
        private static final java.util.regex.Pattern DELIVERED = java.util.regex.Pattern.compile(
            "Message delivered to partition (\\d+) \\(offset (-?\\d+)\\)");
        final Process process;
        final Path log;
        /**
         * Per partition, the seqs sent and not yet reported, in order. kcat does not hold a round up: librdkafka 2.0.2
         * (Debian's kcat 1.7.1) was seen not to send to one partition for more than 90 s after its leader's SIGKILL
         * (2 of 16 rounds; the server had a ready leader 4 s after the kill and the other writers moved on), then
         * delivered it all. Its failover is printed (-1: no acknowledgement by the end of the round), its records
         * are checked like the others', and its failover is not bounded.
         */
        final List<java.util.Queue<Long>> pending = new ArrayList<>();
        final Thread feeder;
        final Thread reports;
        final AtomicLong failedReports = new AtomicLong();

        KcatWriter(String kcat, String bootstrap, String topic, Path log) throws IOException {
            super("kcat", topic);
            this.log = log;
            for (int i = 0; i < PARTITIONS; i++) {
                pending.add(new java.util.concurrent.ConcurrentLinkedQueue<>());
            }
            process = new ProcessBuilder(kcat, "-P", "-b", bootstrap, "-t", topic, "-K", ":",
                "-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=5",
                "-X", "message.timeout.ms=600000", "-X", "request.timeout.ms=10000",
                "-X", "reconnect.backoff.max.ms=500", "-X", "retry.backoff.ms=50",
                "-X", "topic.metadata.refresh.interval.ms=5000", "-E", "-v", "-v") // -E: go on when every connection
                // is down for a moment (a SIGKILL), as librdkafka itself does
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            reports = new Thread(this::readReports, "kcat-reports");
            reports.start();
            feeder = new Thread(this::feed, "kcat-feeder");
            feeder.start();
        }

        /** librdkafka's consistent_random partitioner for a keyed record: CRC-32 of the key, modulo the count. */
        static int partitionOf(byte[] key) {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(key);
            return (int) (crc.getValue() % PARTITIONS);
        }

        private void feed() {
            long t0 = System.nanoTime();
            try (java.io.OutputStream out = process.getOutputStream()) {
                while (!stop) {
                    if (!paced(t0)) { // a pacing pause (see KafkaWriter), not a synchronisation
                        out.flush();
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                        continue;
                    }
                    long s = seq.get();
                    byte[] key = ("k" + s).getBytes(StandardCharsets.US_ASCII);
                    pending.get(partitionOf(key)).add(s);
                    seq.incrementAndGet();
                    out.write(key);
                    out.write((":" + s + "\n").getBytes(StandardCharsets.US_ASCII));
                }
            } catch (Throwable t) {
                if (!stop) {
                    error = t;
                }
            }
        }

        private void readReports() {
            try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                process.getErrorStream(), StandardCharsets.UTF_8));
                 java.io.Writer copy = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                    java.util.regex.Matcher m = DELIVERED.matcher(line);
                    if (m.find()) {
                        int partition = Integer.parseInt(m.group(1));
                        Long s = pending.get(partition).poll();
                        if (s == null) {
                            error = new IllegalStateException("kcat reported a delivery to partition " + partition
                                + " beyond the lines sent to it: " + line);
                            continue;
                        }
                        onAck(s, partition, Long.parseLong(m.group(2)));
                    } else {
                        if (line.contains("Delivery failed")) {
                            onFailure(new IllegalStateException(line));
                        }
                        copy.write(line);
                        copy.write('\n');
                    }
                }
            } catch (IOException e) {
                error = e;
            }
        }

        @Override
        void close() throws Exception {
            stop = true;
            feeder.join(TimeUnit.SECONDS.toMillis(30)); // closes kcat's stdin: it delivers what it has and exits
            if (!process.waitFor(180, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("kcat did not exit within 180 s of the end of its input");
            }
            reports.join(TimeUnit.SECONDS.toMillis(30));
            if (process.exitValue() != 0) {
                error = new AssertionError("kcat exited " + process.exitValue() + "; its log: "
                    + ChildJvm.tail(log, 4000));
            }
        }

        @Override
        void abort() {
            stop = true;
            process.destroyForcibly();
        }
    }

    /** kcat's path, or null when it is missing and IDEMLOG_REQUIRE_KCAT is unset (then it fails). */
    private static String kcat() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            java.io.File f = new java.io.File(d, "kcat");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        assertTrue(System.getenv("IDEMLOG_REQUIRE_KCAT") == null, "kcat is required (IDEMLOG_REQUIRE_KCAT is set) "
            + "but not on the PATH: apt-get install kcat");
        System.out.println("kcat not found on the PATH (apt-get install kcat): the kill run goes on without it");
        return null;
    }

    /** Every record of the topic, per partition, in offset order: {offset, seq}. */
    private List<List<long[]>> readAll(String topic) {
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
                    throw new IllegalStateException("could not read " + topic + " up to " + end);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    out.get(r.partition()).add(new long[] {r.offset(),
                        Long.parseLong(new String(r.value(), StandardCharsets.US_ASCII))});
                }
            }
        }
        return out;
    }

    /**
     * Checks of a read-back against the acknowledgements: {duplicates (stored - distinct), missing, wrong offset, out
     * of order}. An acknowledgement without an offset (-1) is checked for presence and partition only.
     */
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
            } else if (w[0] != a.getValue()[0] || (a.getValue()[1] >= 0 && w[1] != a.getValue()[1])) {
                wrongOffset++;
            }
        }
        return new long[] {duplicates, missing, wrongOffset, outOfOrder};
    }

    private String digestsOrError() {
        StringBuilder b = new StringBuilder();
        for (ServerProcess n : nodes) {
            try {
                b.append("\n").append(n).append(": ").append(ClusterHarness.segmentDigests(n.dataDir()));
            } catch (IOException e) {
                b.append("\n").append(n).append(": ").append(e);
            }
        }
        return b.toString();
    }

    /** Per partition group directory, the bytes of its segment files (exact: log.preallocate=false). */
    private static Map<String, Long> segmentBytes(Path dataDir) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        try (Stream<Path> groups = Files.list(dataDir.resolve("raft"))) {
            for (Path g : (Iterable<Path>) groups::iterator) {
                Path sm = g.resolve("sm");
                if (!Files.exists(sm.resolve("partition.properties"))) {
                    continue;
                }
                long bytes = 0;
                try (Stream<Path> files = Files.walk(sm)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (f.getFileName().toString().endsWith(".log")) {
                            try {
                                bytes += Files.size(f);
                            } catch (java.nio.file.NoSuchFileException gone) {
                                // a segment deleted meanwhile (retention, snapshot install)
                            }
                        }
                    }
                }
                out.put(g.getFileName().toString(), bytes);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return out;
    }

    /**
     * Waits until the restarted node holds, in every partition group, at least the bytes the most advanced of the
     * two others held when this started: with only two live nodes after the next kill, every commit needs the
     * restarted one, so a kill while it still catches up would measure its catching up, not the failover.
     */
    private void awaitCaughtUp(int restarted) {
        Map<String, Long> target = new HashMap<>();
        try {
            for (int i = 0; i < 3; i++) {
                if (i != restarted - 1) {
                    segmentBytes(nodes[i].dataDir()).forEach((g, b) -> target.merge(g, b, Math::max));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long t = System.nanoTime();
        long deadline = t + TIMEOUT.toNanos();
        Map<String, Long> behind = target;
        while (System.nanoTime() < deadline) {
            try {
                Map<String, Long> now = segmentBytes(nodes[restarted - 1].dataDir());
                Map<String, Long> lagging = new TreeMap<>();
                for (Map.Entry<String, Long> e : target.entrySet()) {
                    long have = now.getOrDefault(e.getKey(), 0L);
                    if (have < e.getValue()) {
                        lagging.put(e.getKey(), e.getValue() - have);
                    }
                }
                behind = lagging;
                if (lagging.isEmpty()) {
                    break;
                }
            } catch (IOException e) {
                // a file replaced meanwhile (snapshot install): look again
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // polling interval of a bounded wait
        }
        // Not an assertion: only the figures of the next kill depend on it; the end compares every replica's bytes
        System.out.printf("node %d %s %d ms after its restart answered%s%n", restarted,
            behind.isEmpty() ? "caught up" : "NOT caught up", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t),
            behind.isEmpty() ? "" : " (bytes behind per group: " + behind + ")");
    }

    private static int[] ledBy(int[] leaders, int node) {
        return java.util.stream.IntStream.range(0, leaders.length).filter(p -> leaders[p] == node).toArray();
    }

    /**
     * Kills the leader of a rotating partition of {@link #TOPIC} {@code kills} times, restarting it each time once
     * every writer had an acknowledgement after the kill on every partition the node led in its topic. Returns
     * the failover of that rotating partition for the kafka-clients writer, in ms (the figure the test always
     * printed); each writer collects its own in {@link Writer#failovers}.
     */
    private List<Long> killLeaders(Admin admin, List<String> topics, int kills) {
        List<Long> rotating = new ArrayList<>();
        for (int round = 0; round < kills; round++) {
            int partition = round % PARTITIONS;
            Map<String, int[]> leaders = awaitAllLed(admin, topics);
            int victim = leaders.get(TOPIC)[partition];
            for (Writer w : writers) {
                w.awaitAcked(w.acked.size() + 100);
            }
            Map<Writer, int[]> led = new HashMap<>();
            for (Writer w : writers) {
                led.put(w, ledBy(leaders.get(w.topic), victim));
                w.markKill(led.get(w));
            }
            long killedAt = System.nanoTime();
            java.time.LocalTime killedClock = java.time.LocalTime.now(); // to find the kill in the servers' logs
            nodes[victim - 1].kill();
            int r = round;
            Await.until(() -> "round " + r + ": an acknowledgement after node " + victim + " was killed on every "
                + "partition it led; " + diagnostics(), TIMEOUT, () -> {
                    for (Writer w : writers) {
                        if (!w.ackedAfterKill(led.get(w)) && w.error == null && !(w instanceof KcatWriter)) {
                            return false;
                        }
                    }
                    return true;
                });
            StringBuilder line = new StringBuilder();
            for (Writer w : writers) {
                int[] ps = led.get(w);
                long[] ms = new long[ps.length];
                for (int i = 0; i < ps.length; i++) {
                    long at = w.firstAckAfter.get(ps[i]);
                    ms[i] = at == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(at - killedAt); // -1: the writer failed
                }
                w.failovers.add(ms);
                line.append(String.format("; %s %s ms", w.name, java.util.Arrays.toString(ms)));
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(writers.get(0).firstAckAfter.get(partition) - killedAt);
            rotating.add(ms);
            System.out.printf("round %d: %s-%d leader node %d SIGKILLed at %s, failover %d ms%s%n", round, TOPIC,
                partition, victim, killedClock, ms, line);
            nodes[victim - 1].start();
            awaitCaughtUp(victim);
        }
        return rotating;
    }

    private static long median(List<Long> xs) {
        List<Long> s = xs.stream().sorted().toList();
        return s.isEmpty() ? -1 : s.get(s.size() / 2);
    }

    @Test
    void everyAcknowledgedRecordOnceThroughTenLeaderKillsAndTheControlStoresDuplicates() throws Exception {
        long t0 = System.nanoTime();
        String kcat = kcat();
        startCluster();
        List<String> topics = new ArrayList<>(List.of(TOPIC, IDEMLOG_TOPIC, CONTROL_TOPIC));
        if (kcat != null) {
            topics.add(KCAT_TOPIC);
        }
        List<Long> rotating;
        try (Admin admin = admin()) {
            Await.until("three brokers registered", TIMEOUT, () -> {
                try {
                    return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() == 3;
                } catch (Exception e) {
                    return false;
                }
            });
            List<NewTopic> create = new ArrayList<>();
            for (String t : topics) {
                create.add(new NewTopic(t, PARTITIONS, (short) 3));
            }
            ClusterHarness.createTopics(admin, create);
            awaitAllLed(admin, topics);
            writers.add(new KafkaWriter(bootstrap(), TOPIC, true));
            writers.add(new IdemlogWriter(bootstrap(), IDEMLOG_TOPIC));
            if (kcat != null) {
                Files.createDirectories(LOGS);
                writers.add(new KcatWriter(kcat, bootstrap(), KCAT_TOPIC, LOGS.resolve("kcat.log")));
            }
            writers.add(new KafkaWriter(bootstrap(), CONTROL_TOPIC, false));
            AssertionError closing = null;
            boolean done = false;
            try {
                for (Writer w : writers) {
                    w.awaitAcked(500);
                }
                rotating = killLeaders(admin, topics, KILLS);
                for (Writer w : writers) {
                    w.awaitAcked(w.acked.size() + 250);
                }
                done = true;
            } finally {
                for (Writer w : writers) {
                    try {
                        w.close();
                    } catch (Exception | AssertionError e) {
                        if (!done) { // the failure of the run is the one reported, not this
                            System.out.println(w.name + " did not close cleanly after the run failed: " + e);
                        } else if (closing == null) {
                            closing = new AssertionError(w.name + " did not close cleanly", e);
                        } else {
                            closing.addSuppressed(e);
                        }
                    }
                }
            }
            if (closing != null) {
                throw closing;
            }
            awaitAllLed(admin, topics);
        }
        System.out.printf("%s: failover ms %s, median %d (the rotating partition)%n", writers.get(0).name, rotating,
            median(rotating));
        Writer control = writers.get(writers.size() - 1);
        for (Writer w : writers) {
            List<Long> worst = new ArrayList<>();
            List<Long> all = new ArrayList<>();
            for (long[] k : w.failovers) {
                if (k.length > 0) { // the killed node led some partition of this topic
                    worst.add(java.util.Arrays.stream(k).max().getAsLong());
                }
                for (long x : k) {
                    all.add(x);
                }
            }
            List<List<long[]>> read = readAll(w.topic);
            long[] v = verify(read, w.acked);
            long total = read.stream().mapToLong(List::size).sum();
            System.out.printf("%s (%s): %d sent, %d acknowledged, %d failed, %d stored; duplicates %d, missing %d, "
                + "wrong offset %d, out of order %d; failover per kill (slowest partition of the killed node) ms %s, "
                + "median %d; every partition: median %d, max %d (%d); first failure %s%n", w.name, w.topic,
                w.seq.get(), w.acked.size(), w.failed.get(), total, v[0], v[1], v[2], v[3], worst, median(worst),
                median(all), all.stream().mapToLong(Long::longValue).max().orElse(-1), all.size(), w.firstFailure);
            assertEquals(KILLS, w.failovers.size(), w.name);
            if (w == control) {
                assertTrue(v[0] > 0, "without idempotence the kills must store some re-sent record twice");
                continue;
            }
            assertEquals(null, w.error, w.name);
            assertEquals(0, w.failed.get(), w.name + ": sends that failed");
            assertEquals(0, v[0], w.name + ": records stored twice");
            assertEquals(0, v[1], w.name + ": acknowledged records missing");
            assertEquals(0, v[2], w.name + ": records not at the offset their producer was told");
            assertEquals(0, v[3], w.name + ": records out of order within a partition");
            for (long ms : all) {
                assertTrue(ms < 30_000 || w instanceof KcatWriter, w.name + ": failover took " + ms + " ms: "
                    + w.failovers);
            }
        }
        // every replica byte-identical: a follower may still be catching up (the last entries were committed by the
        // two others), so first until the three agree (bounded), then stopped cleanly and compared once more
        Await.until(() -> "the three nodes' segments alike; " + digestsOrError() + ClusterHarness.divergence(nodes),
            TIMEOUT, () -> {
            try {
                Map<String, String> d = ClusterHarness.segmentDigests(nodes[0].dataDir());
                return d.equals(ClusterHarness.segmentDigests(nodes[1].dataDir()))
                    && d.equals(ClusterHarness.segmentDigests(nodes[2].dataDir()));
            } catch (IOException e) {
                return false;
            }
        });
        for (ServerProcess n : nodes) {
            assertTrue(n.stop(), "clean stop of " + n);
        }
        Map<String, String> first = ClusterHarness.segmentDigests(nodes[0].dataDir());
        assertEquals(topics.size() * PARTITIONS, first.size(), "partition groups on node 1: " + first);
        for (int i = 1; i < 3; i++) {
            assertEquals(first, ClusterHarness.segmentDigests(nodes[i].dataDir()), "node " + (i + 1) + "'s segments"
                + ClusterHarness.divergence(nodes));
        }
        System.out.printf("kill run: %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
    }
}
