package io.idemlog.interop;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs in a child JVM with ONE kafka-clients version (3.9.x or 4.x): DeleteRecords and DescribeLogDirs through the
 * AdminClient, and what a KafkaConsumer sees afterwards; one fact per line ({@code key value}). Uses only API that
 * 3.9 and 4.x share. Arguments: bootstrap topic out-file mode [count-or-offset].
 *
 * <p>Modes: {@code produce N}: N records of 300 bytes to partition 0, each sent alone (one batch each), by an
 * idempotent producer; prints the last offset. {@code delete N}: deleteRecords before N (low watermark), then the
 * refusal above the high watermark (an unknown partition is not tried: the AdminClient retries its metadata lookup
 * until its timeout; DeleteRecordsAndLogDirsWireTest checks that answer), a request below the start,
 * describeProducers, describeLogDirs, and the consumer checks. {@code after}: the consumer checks, describeProducers
 * and describeLogDirs only. Consumer checks: seekToBeginning's first record; a position below the start with
 * auto.offset.reset=none (OffsetOutOfRangeException) and with earliest (reset to the start).
 */
public final class LogStartDriver {
    private LogStartDriver() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        TopicPartition tp = new TopicPartition(topic, 0);
        String mode = args[3];
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Paths.get(args[2]), StandardCharsets.UTF_8),
            true)) {
            out.println("version " + AppInfoParser.getVersion());
            if (mode.equals("produce")) {
                produce(bootstrap, topic, Integer.parseInt(args[4]), out);
                return;
            }
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "20000");
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
            try (Admin admin = Admin.create(p)) {
                if (mode.equals("delete")) {
                    long before = Long.parseLong(args[4]);
                    long low = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(before)))
                        .lowWatermarks().get(tp).get(30, TimeUnit.SECONDS).lowWatermark();
                    out.println("low " + low);
                    out.println("above " + error(() -> admin.deleteRecords(Map.of(tp,
                        RecordsToDelete.beforeOffset(1_000_000L))).all().get(30, TimeUnit.SECONDS)));
                    long again = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(1L)))
                        .lowWatermarks().get(tp).get(30, TimeUnit.SECONDS).lowWatermark();
                    out.println("below " + again);
                }
                var state = admin.describeProducers(List.of(tp)).all().get(30, TimeUnit.SECONDS).get(tp);
                out.println("producers " + state.activeProducers().size());
                Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(1)).descriptions().get(1)
                    .get(30, TimeUnit.SECONDS);
                for (Map.Entry<String, LogDirDescription> d : dirs.entrySet()) {
                    ReplicaInfo r = d.getValue().replicaInfos().get(tp);
                    out.println("logdir " + d.getKey() + " " + (d.getValue().error() == null));
                    out.println("size " + (r == null ? -1 : r.size()) + " " + (r == null ? -1 : r.offsetLag()) + " "
                        + (r != null && r.isFuture()));
                    out.println("total " + d.getValue().totalBytes().orElse(-1L) + " "
                        + d.getValue().usableBytes().orElse(-1L));
                }
            }
            out.println("beginning " + firstOffset(bootstrap, tp, "earliest", -1L));
            long start = Long.parseLong(args[4]); // delete: the offset deleted before; after: the start expected
            out.println("none " + errorName(() -> firstOffset(bootstrap, tp, "none", start - 1)));
            out.println("reset " + firstOffset(bootstrap, tp, "earliest", start - 1));
        }
    }

    private static void produce(String bootstrap, String topic, int count, PrintWriter out) throws Exception {
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        long last = -1;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
            new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                last = producer.send(new ProducerRecord<>(topic, 0, null, new byte[300])).get(30, TimeUnit.SECONDS)
                    .offset();
            }
        }
        out.println("last " + last);
    }

    /**
     * The offset of the first record a consumer gets: from the beginning (position -1) or from {@code position}
     * with this auto.offset.reset.
     */
    private static long firstOffset(String bootstrap, TopicPartition tp, String reset, long position) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
            consumer.assign(List.of(tp));
            if (position < 0) {
                consumer.seekToBeginning(List.of(tp));
            } else {
                consumer.seek(tp, position);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    return r.offset();
                }
            }
            return -1L;
        }
    }

    private interface Action {
        void run() throws Exception;
    }

    private static String error(Action action) {
        try {
            action.run();
            return "ok";
        } catch (ExecutionException e) {
            return e.getCause().getClass().getSimpleName();
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    private static String errorName(java.util.function.LongSupplier s) {
        try {
            return "ok " + s.getAsLong();
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName();
        }
    }
}
