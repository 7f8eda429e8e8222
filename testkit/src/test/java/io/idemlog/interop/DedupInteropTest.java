package io.idemlog.interop;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.RecordMetadata;
import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.Header;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.LoggedRecord;
import io.idemlog.testkit.ServerProcess;
import io.idemlog.testkit.WireConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * De-duplication keys against real readers and writers: batches stored with offset holes and an empty batch are read
 * back right by kafka-clients' KafkaConsumer, by librdkafka (kcat) and by the test kit's LogReader (from the start
 * and from an offset inside a hole); two kafka-clients producer sessions sending overlapping keys store each key
 * once (control: the same sends to a server without de-duplication store the overlap twice); kcat with {@code -H}
 * likewise. kcat parts need kcat on the PATH (skipped with a message otherwise, unless IDEMLOG_REQUIRE_KCAT is set).
 */
@Tag("slow")
class DedupInteropTest {
    private static final String HEADER = "event-id";
    private static final String TOPIC = "dd";

    @TempDir
    Path dir;

    private ServerProcess server(String name, boolean dedup) {
        ServerProcess.Builder b = ServerProcess.builder(dir.resolve(name))
            .override("create.topics", TOPIC + ":1")
            .logFile(dir.resolve(name + ".log"));
        if (dedup) {
            b.override("log.dedup.header", HEADER);
        }
        return b.start();
    }

    private static byte[] batch(String... keys) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (String k : keys) {
            b.tryAppend(System.currentTimeMillis(), null, ("value-" + k).getBytes(StandardCharsets.UTF_8),
                new Header[] {new Header(HEADER, k.getBytes(StandardCharsets.UTF_8))});
        }
        int size = b.close();
        byte[] bytes = new byte[size];
        buf.get(0, bytes);
        return bytes;
    }

    private static ProduceResponse.PartitionResponse produce(ServerProcess server, byte[] batch) throws IOException {
        try (WireConnection c = WireConnection.connect(server.address(), Duration.ofSeconds(10))) {
            ProduceRequest req = new ProduceRequest();
            req.acks = -1;
            req.timeoutMs = 30_000;
            ProduceRequest.TopicData t = new ProduceRequest.TopicData(TOPIC);
            t.partitions.add(new ProduceRequest.PartitionData(0, new MemoryRecords(ByteBuffer.wrap(batch))));
            req.topics.add(t);
            short v = c.version(ApiKey.PRODUCE, (short) 9);
            assertEquals(9, v);
            ProduceResponse.PartitionResponse r = c.request(ApiKey.PRODUCE, v, req, ProduceResponse::read)
                .topics.get(0).partitions.get(0);
            assertEquals(0, r.errorCode);
            return r;
        }
    }

    private static long[] repeats(ProduceResponse.PartitionResponse r) {
        byte[] raw = r.taggedFields == null ? null : r.taggedFields.get(ProduceResponse.REPEATS_TAG);
        return raw == null ? null : ProduceResponse.decodeRepeats(raw);
    }

    private static List<String> logReader(ServerProcess server, long from) throws IOException {
        List<String> out = new ArrayList<>();
        try (LogReader reader = new LogReader(server.address())) {
            reader.read(TOPIC, 0, (LoggedRecord r) -> {
                if (r.offset() >= from) {
                    out.add(r.offset() + ":" + new String(r.value(), StandardCharsets.UTF_8));
                }
            });
        }
        return out;
    }

    private static List<String> kafkaConsumer(ServerProcess server, long from, long end) {
        Map<String, Object> props = Map.of("bootstrap.servers", server.bootstrap(), "enable.auto.commit", false,
            "key.deserializer", ByteArrayDeserializer.class.getName(),
            "value.deserializer", ByteArrayDeserializer.class.getName());
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            consumer.assign(List.of(tp));
            consumer.seek(tp, from);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(r.offset() + ":" + new String(r.value(), StandardCharsets.UTF_8));
                }
            }
            assertEquals(end, consumer.position(tp), "the consumer moves past holes and empty batches");
        }
        return out;
    }

    static String kcat() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(d, "kcat");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        if (System.getenv("IDEMLOG_REQUIRE_KCAT") != null) {
            throw new AssertionError("kcat is required (IDEMLOG_REQUIRE_KCAT is set) but not on the PATH");
        }
        return null;
    }

    private String run(String... command) throws IOException, InterruptedException {
        Path log = dir.resolve("kcat.log");
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
        byte[] out = p.getInputStream().readAllBytes();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done && p.exitValue() == 0, String.join(" ", command) + " failed:\n" + Files.readString(log));
        return new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void holesAndAnEmptyBatchAreReadRightByKafkaClientsKcatAndLogReader() throws Exception {
        try (ServerProcess server = server("data", true)) {
            assertNull(repeats(produce(server, batch("a", "b", "c"))));
            ProduceResponse.PartitionResponse second = produce(server, batch("b", "d", "a"));
            assertEquals(3, second.baseOffset);
            assertArrayEquals(new long[] {0, 1, 2, 0}, repeats(second), "b repeats offset 1, a offset 0");
            ProduceResponse.PartitionResponse third = produce(server, batch("a", "b"));
            assertEquals(6, third.baseOffset);
            assertArrayEquals(new long[] {0, 0, 1, 1}, repeats(third), "a batch of only repeats");
            ProduceResponse.PartitionResponse fourth = produce(server, batch("e"));
            assertEquals(8, fourth.baseOffset, "the empty batch kept its offset range 6..7");
            assertNull(repeats(fourth));

            List<String> expected = List.of("0:value-a", "1:value-b", "2:value-c", "4:value-d", "8:value-e");
            assertEquals(expected, logReader(server, 0));
            assertEquals(expected, kafkaConsumer(server, 0, 9));
            assertEquals(List.of("8:value-e"), kafkaConsumer(server, 5, 9), "from inside a hole");
            assertEquals(List.of("4:value-d", "8:value-e"), logReader(server, 3));
            String kcat = kcat();
            if (kcat == null) {
                Assumptions.abort("kcat not found on the PATH (apt-get install kcat): librdkafka part not tested");
            }
            String out = run(kcat, "-C", "-b", server.bootstrap(), "-t", TOPIC, "-p", "0", "-o", "beginning", "-e",
                "-q", "-f", "%o:%s\n");
            assertEquals(expected, out.lines().toList());
            String fromHole = run(kcat, "-C", "-b", server.bootstrap(), "-t", TOPIC, "-p", "0", "-o", "5", "-e",
                "-q", "-f", "%o:%s\n");
            assertEquals(List.of("8:value-e"), fromHole.lines().toList());
        }
    }

    private static void sendWithKafkaProducer(ServerProcess server, int from, int to) {
        Map<String, Object> props = Map.of("bootstrap.servers", server.bootstrap(), "enable.idempotence", true,
            "acks", "all", "linger.ms", 5,
            "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = from; i < to; i++) {
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(TOPIC, 0, null,
                    ("event-" + i).getBytes(StandardCharsets.UTF_8));
                r.headers().add(HEADER, ("id-" + i).getBytes(StandardCharsets.UTF_8));
                producer.send(r);
            }
            producer.flush();
        }
    }

    private static long count(ServerProcess server) throws IOException {
        try (LogReader reader = new LogReader(server.address())) {
            return reader.read(TOPIC, 0, r -> { });
        }
    }

    @Test
    void twoKafkaProducerSessionsWithOverlappingKeysStoreEachKeyOnceAndTheControlStoresTheOverlapTwice()
        throws Exception {
        try (ServerProcess server = server("on", true)) {
            sendWithKafkaProducer(server, 0, 100);
            sendWithKafkaProducer(server, 50, 150); // a "restarted" producer re-sends 50 it was not sure of
            assertEquals(150, count(server));
            String kcat = kcat();
            if (kcat != null) {
                for (int i = 0; i < 2; i++) {
                    Path one = dir.resolve("one.txt");
                    Files.writeString(one, "kcat-record\n");
                    run(kcat, "-P", "-b", server.bootstrap(), "-t", TOPIC, "-p", "0", "-H", HEADER + "=kcat-1",
                        "-X", "enable.idempotence=true", "-l", one.toString());
                }
                assertEquals(151, count(server), "kcat -H: the second send of the same id is not stored");
            }
        }
        try (ServerProcess control = server("off", false)) {
            sendWithKafkaProducer(control, 0, 100);
            sendWithKafkaProducer(control, 50, 150);
            assertEquals(200, count(control), "without de-duplication the re-sent 50 are stored twice");
        }
    }

    private static List<RecordMetadata> sendWithIdemlogProducer(ServerProcess server, int from, int to)
        throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", server.bootstrap());
        p.put("linger.ms", "5");
        List<java.util.concurrent.CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        try (IdemlogProducer producer = IdemlogProducer.create(p)) {
            for (int i = from; i < to; i++) {
                futures.add(producer.send(TOPIC, 0, null, ("event-" + i).getBytes(StandardCharsets.UTF_8),
                    new Header[] {new Header(HEADER, ("id-" + i).getBytes(StandardCharsets.UTF_8))}));
            }
            producer.flush();
            List<RecordMetadata> out = new ArrayList<>();
            for (var f : futures) {
                out.add(f.get(30, TimeUnit.SECONDS));
            }
            return out;
        }
    }

    @Test
    void theIdemlogProducerReportsEachRepeatWithTheOffsetOfItsOriginal() throws Exception {
        try (ServerProcess server = server("idl", true)) {
            List<RecordMetadata> first = sendWithIdemlogProducer(server, 0, 100);
            List<RecordMetadata> second = sendWithIdemlogProducer(server, 50, 150);
            for (int i = 0; i < 100; i++) {
                assertEquals(-1L, first.get(i).originalOffset(), "stored: " + first.get(i));
            }
            for (int i = 0; i < 50; i++) {
                RecordMetadata md = second.get(i);
                assertTrue(md.isRepeat(), "id-" + (50 + i) + " repeats: " + md);
                assertEquals(first.get(50 + i).offset(), md.originalOffset(), "the original's offset");
            }
            for (int i = 50; i < 100; i++) {
                assertEquals(-1L, second.get(i).originalOffset(), "id-" + (50 + i) + " is new");
            }
            assertEquals(150, count(server));
        }
    }
}
