package io.idemlog.interop;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.AppInfoParser;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * One consumer-group member in its own JVM (one kafka-clients version on its class path; killable with SIGKILL):
 * {@code subscribe()} with the given assignor, commitSync after every poll that returned records, until the file
 * {@code <out>.stop} appears; then close() (which leaves the group). Writes one line per event to {@code out},
 * flushed at once (a SIGKILL loses nothing written before it):
 * <pre>
 *   started VERSION
 *   assigned MICROS GENERATION p,p,...     (onPartitionsAssigned: the partitions added)
 *   revoked MICROS GENERATION p,p,...      (onPartitionsRevoked)
 *   lost MICROS GENERATION p,p,...         (onPartitionsLost)
 *   rec PARTITION OFFSET
 *   committed MICROS p=offset,...          (after commitSync returned: the positions it committed)
 *   closed
 * </pre>
 * Args: bootstrap topic group assignor(range|cooperative-sticky) out instanceId('-' = dynamic) sessionTimeoutMs.
 */
public final class GroupMemberDriver {
    private GroupMemberDriver() {
    }

    private static BufferedWriter out;

    private static synchronized void line(String s) {
        try {
            out.write(s);
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long micros() {
        Instant now = Clock.systemUTC().instant();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }

    private static String partitions(Collection<TopicPartition> tps) {
        StringBuilder sb = new StringBuilder();
        for (TopicPartition tp : tps) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(tp.partition());
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }

    public static void main(String[] args) throws IOException {
        String bootstrap = args[0];
        String topic = args[1];
        String group = args[2];
        String assignor = args[3];
        Path outFile = Paths.get(args[4]);
        String instanceId = args[5];
        String sessionTimeout = args[6];
        Path stop = Paths.get(args[4] + ".stop");
        out = Files.newBufferedWriter(outFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        line("started " + AppInfoParser.getVersion());
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, sessionTimeout);
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "200");
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignor.equals("range")
            ? "org.apache.kafka.clients.consumer.RangeAssignor"
            : "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
        if (!instanceId.equals("-")) {
            p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        }
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    line("revoked " + micros() + " " + consumer.groupMetadata().generationId() + " "
                        + partitions(partitions));
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    line("assigned " + micros() + " " + consumer.groupMetadata().generationId() + " "
                        + partitions(partitions));
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    line("lost " + micros() + " " + consumer.groupMetadata().generationId() + " "
                        + partitions(partitions));
                }
            });
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos(); // never outlive a broken test
            boolean uncommitted = false;
            while (!Files.exists(stop) && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    line("rec " + r.partition() + " " + r.offset());
                }
                uncommitted |= !records.isEmpty();
                if (!uncommitted) {
                    continue;
                }
                Map<Integer, Long> positions = new TreeMap<>();
                try {
                    // commitSync commits the position of every assigned partition: log exactly those
                    for (TopicPartition tp : consumer.assignment()) {
                        positions.put(tp.partition(), consumer.position(tp));
                    }
                    consumer.commitSync();
                    uncommitted = false;
                } catch (RuntimeException e) {
                    // a rebalance is under way: commit again after the next poll (the partitions this member keeps
                    // get their positions committed; the others' next owner reads from the last commit)
                    line("commitfailed " + e.getClass().getSimpleName());
                    continue;
                }
                StringBuilder sb = new StringBuilder();
                for (Map.Entry<Integer, Long> e : positions.entrySet()) {
                    sb.append(sb.length() == 0 ? "" : ",").append(e.getKey()).append('=').append(e.getValue());
                }
                line("committed " + micros() + " " + (sb.length() == 0 ? "-" : sb));
            }
        }
        line("closed");
        out.close();
    }
}
