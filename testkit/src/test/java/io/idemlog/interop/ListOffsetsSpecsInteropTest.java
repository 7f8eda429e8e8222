package io.idemlog.interop;

import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ListOffsets v7+ (issue 9, scope item 3): kafka-clients' Admin.listOffsets with the max-timestamp (-3),
 * earliest-local (-4) and latest-tiered (-5) specs, and Kafka 4.x's GetOffsetShell --time -3, against what Kafka's
 * own broker answers without tiered storage: -3 gives the offset and timestamp of the record with the largest
 * timestamp (within a batch too), or -1 for an empty partition; -4 the log start offset; -5 offset -1.
 */
@Tag("slow")
class ListOffsetsSpecsInteropTest {
    private static final String TOPIC = "specs";

    @TempDir
    Path dir;

    private static void send(String bootstrap, int partition, boolean oneBatch, long... timestamps)
        throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, oneBatch ? "60000" : "0");
        try (KafkaProducer<String, String> producer =
                 new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (long ts : timestamps) {
                var f = producer.send(new ProducerRecord<>(TOPIC, partition, ts, null, "ts-" + ts));
                if (!oneBatch) {
                    f.get();
                }
            }
            producer.flush();
        }
    }

    private static Map<Integer, ListOffsetsResult.ListOffsetsResultInfo> list(Admin admin, OffsetSpec spec)
        throws Exception {
        Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
        for (int p = 0; p < 3; p++) {
            ask.put(new TopicPartition(TOPIC, p), spec);
        }
        Map<Integer, ListOffsetsResult.ListOffsetsResultInfo> out = new HashMap<>();
        admin.listOffsets(ask).all().get().forEach((tp, info) -> out.put(tp.partition(), info));
        return out;
    }

    /** The whole check against the broker at {@code bootstrap}, which has an empty 3-partition topic {@link #TOPIC}. */
    private void check(String bootstrap, String label) throws Exception {
        send(bootstrap, 0, true, 1000, 5000, 3000, 2000);  // one batch: the max is its record 1
        send(bootstrap, 1, false, 4000, 9000, 2000);       // three batches: the max is the second
        // partition 2 stays empty
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            var max = list(admin, OffsetSpec.maxTimestamp());
            assertEquals(1L, max.get(0).offset(), label + ": max timestamp within one batch");
            assertEquals(5000L, max.get(0).timestamp(), label);
            assertEquals(1L, max.get(1).offset(), label + ": max timestamp across batches");
            assertEquals(9000L, max.get(1).timestamp(), label);
            assertEquals(-1L, max.get(2).offset(), label + ": empty partition");

            var local = list(admin, OffsetSpec.earliestLocal());
            var tiered = list(admin, OffsetSpec.latestTiered());
            for (int p = 0; p < 3; p++) {
                assertEquals(0L, local.get(p).offset(), label + ": earliest local offset of partition " + p);
                assertEquals(-1L, tiered.get(p).offset(), label + ": no tiered storage: partition " + p);
            }
            assertEquals(4L, list(admin, OffsetSpec.latest()).get(0).offset(), label);
        }
        ExternalTool.Result shell = ExternalTool.kafkaTool(dir.resolve("get-offset-shell-" + label + ".log"),
            Duration.ofSeconds(90), "org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", bootstrap,
            "--topic", TOPIC, "--time", "-3").requireSuccess("GetOffsetShell --time -3");
        assertTrue(shell.lines().contains(TOPIC + ":0:1"), label + ": " + shell.stdout());
        assertTrue(shell.lines().contains(TOPIC + ":1:1"), label + ": " + shell.stdout());
    }

    @Test
    void idemlogAnswersTheNewSpecsAsKafkaDoes() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", TOPIC + ":3")
            .logFile(dir.resolve("server.log"))
            .start()) {
            check(server.bootstrap(), "idemlog");
        }
    }

    /** The expectations above are Kafka's: the same check against Kafka 4.1's own broker. */
    @Test
    void kafkaItselfAnswersSo() throws Exception {
        try (KafkaBroker kafka = KafkaBroker.builder(dir.resolve("kafka")).numPartitions(3).start()) {
            kafka.createTopic(TOPIC);
            check(kafka.bootstrap(), "kafka");
        }
    }
}
