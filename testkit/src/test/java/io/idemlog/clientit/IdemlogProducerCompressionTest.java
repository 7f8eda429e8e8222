package io.idemlog.clientit;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.ProducerConfig;
import io.idemlog.client.RecordMetadata;
import io.idemlog.common.record.Compression;
import io.idemlog.interop.CompressionInteropTestAccess;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * idemlog's producer with {@code compression.type} gzip, snappy, lz4 and zstd, idempotent, acks=all: against an
 * idemlog server and against a real Apache Kafka 4.x broker. Each time the futures carry offsets 0..n-1, the batches
 * in the broker's segment files carry the codec, and the official KafkaConsumer reads back exactly the values sent.
 */
@Tag("slow")
@Timeout(300)
class IdemlogProducerCompressionTest {
    private static final Compression[] CODECS = {Compression.GZIP, Compression.SNAPPY, Compression.LZ4,
        Compression.ZSTD};
    private static final int RECORDS = 20_000;

    @TempDir
    Path dir;

    private static void produce(String bootstrap, String topic, Compression codec, List<String> values)
        throws Exception {
        Properties p = ClientRuns.config(bootstrap, true);
        p.put(ProducerConfig.COMPRESSION_TYPE, codec.kafkaName);
        try (IdemlogProducer producer = IdemlogProducer.create(p)) {
            List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>(values.size());
            for (String v : values) {
                acks.add(producer.send(topic, 0, null, v.getBytes(StandardCharsets.UTF_8), null));
            }
            producer.flush();
            for (int i = 0; i < acks.size(); i++) {
                assertEquals(i, acks.get(i).get(30, TimeUnit.SECONDS).offset(), codec + " record " + i);
            }
        }
    }

    @Test
    void everyCodecToIdemlog() throws Exception {
        StringBuilder topics = new StringBuilder();
        for (Compression c : CODECS) {
            topics.append(topics.length() == 0 ? "" : ",").append("ic-").append(c.kafkaName).append(":1");
        }
        try (ServerProcess server = ServerProcess.builder(dir.resolve("idemlog"))
            .override("create.topics", topics.toString())
            .logFile(dir.resolve("server.log"))
            .start()) {
            for (Compression codec : CODECS) {
                String topic = "ic-" + codec.kafkaName;
                List<String> values = CompressionInteropTestAccess.values(topic, RECORDS);
                produce(server.bootstrap(), topic, codec, values);
                CompressionInteropTestAccess.assertAllStoredAs(codec.id, CompressionInteropTestAccess.segmentCodecs(
                    server.dataDir().resolve("topics").resolve(topic + "-0")), "idemlog producer -> idemlog " + codec);
                assertEquals(values, CompressionInteropTestAccess.consume(server.bootstrap(), topic, RECORDS),
                    "KafkaConsumer reads " + codec + " from idemlog");
            }
        }
    }

    @Test
    void everyCodecToApacheKafka() throws Exception {
        try (KafkaBroker kafka = KafkaBroker.builder(dir.resolve("kafka")).numPartitions(1).start()) {
            for (Compression codec : CODECS) {
                String topic = "ik-" + codec.kafkaName;
                kafka.createTopic(topic);
                List<String> values = CompressionInteropTestAccess.values(topic, RECORDS);
                produce(kafka.bootstrap(), topic, codec, values);
                assertEquals(values, CompressionInteropTestAccess.consume(kafka.bootstrap(), topic, RECORDS),
                    "KafkaConsumer reads " + codec + " from Kafka");
                // Kafka keeps a producer's codec (compression.type=producer): its segment holds our batches
                CompressionInteropTestAccess.assertAllStoredAs(codec.id, CompressionInteropTestAccess.segmentCodecs(
                    dir.resolve("kafka").resolve("data").resolve(topic + "-0")), "idemlog producer -> Kafka " + codec);
            }
        }
    }
}
