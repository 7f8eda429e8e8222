package io.idemlog.bench.group;

import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The group coordinator's figures (issue 9), against an idemlog server in its own JVM, with kafka-clients 4.x members
 * as threads of this JVM:
 * <ol>
 *   <li>rebalance time for N members (3 and 20): from the moment N members subscribe to an empty group until every
 *       one of them has its partitions in the same generation; and for one more member joining a stable group of N
 *       (until all N+1 agree on the next generation). group.initial.rebalance.delay.ms=0 on the server, so the
 *       figure is the protocol's round trips, not Kafka's 3 s wait for more members;</li>
 *   <li>produce latency (acks=all, idempotent, one record every 1 ms, per-record send-to-ack time) without and with a
 *       rebalance storm (20 members, one member replaced every 300 ms: continuous rebalances), alternating rounds,
 *       p50/p99/p99.9 of each and the ratio storm/quiet of the p99.</li>
 * </ol>
 * Run: {@code jmh/bench.sh groups [--rounds N] [--round-seconds S]} (builds the jmh module when needed).
 */
public final class GroupBench {
    private static final String TOPIC = "gb";
    private static final int PARTITIONS = 40;

    private GroupBench() {
    }

    /** A member thread: polls until stopped; counts its assignment and generation after each rebalance. */
    private static final class Member implements Runnable {
        final KafkaConsumer<byte[], byte[]> consumer;
        final Thread thread;
        volatile int generation = -1;
        final AtomicInteger owned = new AtomicInteger();
        volatile boolean stop;

        Member(String bootstrap, String group, int index) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "300");
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, group + "-" + index);
            consumer = new KafkaConsumer<>(p);
            thread = new Thread(this, group + "-member-" + index);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    owned.addAndGet(-partitions.size());
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    owned.addAndGet(partitions.size());
                    generation = consumer.groupMetadata().generationId();
                }
            });
            try {
                while (!stop) {
                    consumer.poll(Duration.ofMillis(100));
                }
            } catch (WakeupException e) {
                // stopping
            } finally {
                consumer.close();
            }
        }

        void stop() throws InterruptedException {
            stop = true;
            consumer.wakeup();
            thread.join(TimeUnit.SECONDS.toMillis(15));
        }
    }

    private static boolean agree(List<Member> members) {
        int g = members.get(0).generation;
        int total = 0;
        for (Member m : members) {
            if (m.generation != g || g < 0) {
                return false;
            }
            total += m.owned.get();
        }
        return total == PARTITIONS;
    }

    private static long awaitAgreement(List<Member> members, long startNanos, int previousGeneration)
        throws InterruptedException {
        long deadline = startNanos + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (agree(members) && members.get(0).generation > previousGeneration) {
                return System.nanoTime() - startNanos;
            }
            Thread.sleep(2); // polling the members' state for a measurement, not synchronising anything
        }
        throw new IllegalStateException("members never agreed on one generation");
    }

    private static void rebalanceTimes(String bootstrap, int n, int repeats) throws InterruptedException {
        for (int r = 0; r < repeats; r++) {
            String group = "rb" + n + "-" + r;
            List<Member> members = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                members.add(new Member(bootstrap, group, i));
            }
            long t0 = System.nanoTime();
            for (Member m : members) {
                m.thread.start();
            }
            long join = awaitAgreement(members, t0, -1);
            int gen = members.get(0).generation;
            Member extra = new Member(bootstrap, group, n);
            members.add(extra);
            long t1 = System.nanoTime();
            extra.thread.start();
            long oneMore = awaitAgreement(members, t1, gen);
            System.out.printf("rebalance %2d members: all joined and assigned in %7.1f ms; one more member joining a"
                    + " stable group of %d: %7.1f ms (generation %d -> %d)%n", n, join / 1e6, n, oneMore / 1e6, gen,
                members.get(0).generation);
            for (Member m : members) {
                m.stop();
            }
        }
    }

    /** Per-record send-to-ack latencies (ns) of one round, one record per ms. */
    private static long[] produceRound(KafkaProducer<byte[], byte[]> producer, int seconds)
        throws InterruptedException {
        int n = seconds * 1000;
        long[] lat = new long[n];
        AtomicInteger done = new AtomicInteger();
        AtomicLong errors = new AtomicLong();
        CountDownLatch all = new CountDownLatch(n);
        byte[] value = new byte[100];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long due = start + i * 1_000_000L;
            long now;
            while ((now = System.nanoTime()) < due) {
                Thread.onSpinWait();
            }
            int index = i;
            long sent = now;
            producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, value), (md, e) -> {
                if (e != null) {
                    errors.incrementAndGet();
                }
                lat[index] = System.nanoTime() - sent;
                done.incrementAndGet();
                all.countDown();
            });
        }
        if (!all.await(60, TimeUnit.SECONDS) || errors.get() > 0) {
            throw new IllegalStateException("produce round: " + done.get() + " of " + n + " acked, " + errors.get()
                + " errors");
        }
        return lat;
    }

    private static double pct(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
    }

    public static void main(String[] args) throws Exception {
        int rounds = 2;
        int roundSeconds = 15;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--round-seconds" -> roundSeconds = Integer.parseInt(args[++i]);
                default -> {
                    System.out.println("usage: GroupBench [--rounds N] [--round-seconds S]");
                    return;
                }
            }
        }
        Path dir = Files.createTempDirectory("idemlog-groupbench");
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", TOPIC + ":" + PARTITIONS)
            .override("group.initial.rebalance.delay.ms", "0")
            .logFile(dir.resolve("server.log"))
            .start()) {
            String bootstrap = server.bootstrap();
            System.out.println("idemlog server " + server + "; kafka-clients "
                + org.apache.kafka.common.utils.AppInfoParser.getVersion() + "; " + Runtime.getRuntime()
                .availableProcessors() + " cores; load average " + java.lang.management.ManagementFactory
                .getOperatingSystemMXBean().getSystemLoadAverage());
            rebalanceTimes(bootstrap, 3, 3);
            rebalanceTimes(bootstrap, 20, 3);

            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            pp.put(ProducerConfig.ACKS_CONFIG, "all");
            pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
            pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
                produceRound(producer, 3); // warm-up
                List<double[]> quiet = new ArrayList<>();
                List<double[]> storm = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    long[] q = produceRound(producer, roundSeconds);
                    Arrays.sort(q);
                    quiet.add(new double[] {pct(q, 0.5), pct(q, 0.99), pct(q, 0.999)});
                    System.out.printf("round %d quiet: produce p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms%n", r,
                        quiet.get(r)[0], quiet.get(r)[1], quiet.get(r)[2]);

                    String group = "storm-" + r;
                    List<Member> members = new ArrayList<>();
                    for (int i = 0; i < 20; i++) {
                        Member m = new Member(bootstrap, group, i);
                        members.add(m);
                        m.thread.start();
                    }
                    awaitAgreement(members, System.nanoTime(), -1);
                    AtomicInteger replaced = new AtomicInteger();
                    int seed = r;
                    Thread churn = new Thread(() -> {
                        Random rnd = new Random(seed);
                        int next = 20;
                        try {
                            while (!Thread.currentThread().isInterrupted()) {
                                Thread.sleep(300); // the storm's pace: a member replaced every 300 ms
                                int victim = rnd.nextInt(members.size());
                                Member old = members.get(victim);
                                old.stop();
                                Member m = new Member(bootstrap, group, next++);
                                members.set(victim, m);
                                m.thread.start();
                                replaced.incrementAndGet();
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }, "storm");
                    churn.start();
                    long[] s = produceRound(producer, roundSeconds);
                    churn.interrupt();
                    churn.join();
                    Arrays.sort(s);
                    storm.add(new double[] {pct(s, 0.5), pct(s, 0.99), pct(s, 0.999)});
                    System.out.printf("round %d storm (20 members, %d replaced): produce p50 %.2f ms, p99 %.2f ms,"
                        + " p99.9 %.2f ms%n", r, replaced.get(), storm.get(r)[0], storm.get(r)[1], storm.get(r)[2]);
                    for (Member m : members) {
                        m.stop();
                    }
                }
                double[] qm = median(quiet);
                double[] sm = median(storm);
                System.out.printf("produce p99: quiet %.2f ms, storm %.2f ms: ratio storm/quiet %.2f (p50 %.2f, "
                    + "p99.9 %.2f)%n", qm[1], sm[1], sm[1] / qm[1], sm[0] / qm[0], sm[2] / qm[2]);
            }
        }
    }

    private static double[] median(List<double[]> rows) {
        double[] out = new double[3];
        for (int c = 0; c < 3; c++) {
            double[] col = new double[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                col[i] = rows.get(i)[c];
            }
            Arrays.sort(col);
            out[c] = col[col.length / 2];
        }
        return out;
    }
}
