package io.idemlog.interop;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.LoggedRecord;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * De-duplication keys on compressed batches against real writers and readers (issue 11): kafka-clients
 * (compression.type gzip, snappy, lz4, zstd) and librdkafka (python3-confluent-kafka, lz4 and zstd; kcat -z) send
 * repeats to a de-duplicating topic in three sessions: new records, then only repeats (stored as an empty batch),
 * then new records mixed with repeats (stored compressed again, with holes). kafka-clients' KafkaConsumer, kcat -C
 * and the test kit's LogReader then read exactly the first occurrence of every id, at the offset its producer was
 * told. The segment files show what was stored: the batches with records compressed with the producer's codec, at
 * least one with holes, at least one empty. Control: the same sends to a server without de-duplication store every
 * repeat. The librdkafka parts need python3-confluent-kafka / kcat (skipped with a message otherwise, unless
 * IDEMLOG_REQUIRE_PYTHON_KAFKA / IDEMLOG_REQUIRE_KCAT is set).
 */
@Tag("slow")
class DedupCompressedInteropTest {
    private static final String HEADER = "event-id";
    /** The sessions: each group of ranges is sent and then flushed (so it tends to be one batch). */
    private static final List<List<int[]>> SESSIONS = List.of(
        List.of(new int[] {0, 100}),
        List.of(new int[] {50, 100}),
        List.of(new int[] {100, 110}, new int[] {95, 100}, new int[] {110, 115}));
    private static final int DISTINCT = 115;
    private static final int SENT = 100 + 50 + 20;
    private static final String[] KAFKA_CODECS = {"gzip", "snappy", "lz4", "zstd"};
    private static final String[] LIBRDKAFKA_CODECS = {"lz4", "zstd"};

    @TempDir
    Path dir;

    private ServerProcess server(String name, boolean dedup) {
        StringBuilder topics = new StringBuilder("kcat-z:1");
        for (String c : KAFKA_CODECS) {
            topics.append(",kc-").append(c).append(":1");
        }
        for (String c : LIBRDKAFKA_CODECS) {
            topics.append(",rd-").append(c).append(":1");
        }
        ServerProcess.Builder b = ServerProcess.builder(dir.resolve(name))
            .override("create.topics", topics.toString())
            .logFile(dir.resolve(name + ".log"));
        if (dedup) {
            b.override("log.dedup.header", HEADER);
        }
        return b.start();
    }

    static String value(int id) {
        return "event-" + id + "-" + "x".repeat(100);
    }

    /** One kafka-clients producer session per element of {@link #SESSIONS}; "id offset" per record, in send order. */
    private static List<long[]> sendWithKafkaClients(ServerProcess server, String topic, String codec)
        throws Exception {
        List<long[]> out = new ArrayList<>();
        for (List<int[]> session : SESSIONS) {
            Map<String, Object> props = Map.of("bootstrap.servers", server.bootstrap(), "enable.idempotence", true,
                "acks", "all", "linger.ms", 5, "compression.type", codec,
                "key.serializer", ByteArraySerializer.class.getName(),
                "value.serializer", ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
                List<Future<RecordMetadata>> futures = new ArrayList<>();
                List<Integer> ids = new ArrayList<>();
                for (int[] range : session) {
                    for (int i = range[0]; i < range[1]; i++) {
                        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, 0, null,
                            value(i).getBytes(StandardCharsets.UTF_8));
                        r.headers().add(HEADER, ("id-" + i).getBytes(StandardCharsets.UTF_8));
                        futures.add(producer.send(r));
                        ids.add(i);
                    }
                }
                producer.flush();
                for (int k = 0; k < futures.size(); k++) {
                    out.add(new long[] {ids.get(k), futures.get(k).get(30, TimeUnit.SECONDS).offset()});
                }
            }
        }
        return out;
    }

    /** The same sessions on librdkafka (one python process per session). */
    private List<long[]> sendWithLibrdkafka(ServerProcess server, String topic, String codec) throws Exception {
        String python = ExternalTool.python("confluent_kafka", "python3-confluent-kafka");
        Path script = dir.resolve("dedup_compressed_librdkafka.py");
        if (!Files.exists(script)) {
            try (InputStream in = DedupCompressedInteropTest.class.getResourceAsStream(
                "dedup_compressed_librdkafka.py")) {
                Files.write(script, in.readAllBytes());
            }
        }
        List<long[]> out = new ArrayList<>();
        for (List<int[]> session : SESSIONS) {
            StringBuilder group = new StringBuilder();
            for (int[] range : session) {
                group.append(group.length() == 0 ? "" : ",").append(range[0]).append('-').append(range[1]);
            }
            String printed = run(python, script.toString(), server.bootstrap(), topic, codec, group.toString());
            for (String line : printed.lines().toList()) {
                String[] f = line.split(" ");
                out.add(new long[] {Long.parseLong(f[0].substring("id-".length())), Long.parseLong(f[1])});
            }
        }
        return out;
    }

    /** "offset:value" of the first send of every id: what every reader must read. */
    private static List<String> expected(List<long[]> sent) {
        Map<Long, String> first = new LinkedHashMap<>();
        for (long[] s : sent) {
            first.putIfAbsent(s[0], s[1] + ":" + value((int) s[0]));
        }
        return new ArrayList<>(first.values());
    }

    private static List<String> logReader(ServerProcess server, String topic) throws IOException {
        List<String> out = new ArrayList<>();
        try (LogReader reader = new LogReader(server.address())) {
            reader.read(topic, 0, (LoggedRecord r) -> out.add(r.offset() + ":"
                + new String(r.value(), StandardCharsets.UTF_8)));
        }
        return out;
    }

    private static List<String> kafkaConsumer(ServerProcess server, String topic, long from, long end) {
        Map<String, Object> props = Map.of("bootstrap.servers", server.bootstrap(), "enable.auto.commit", false,
            "key.deserializer", ByteArrayDeserializer.class.getName(),
            "value.deserializer", ByteArrayDeserializer.class.getName());
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seek(tp, from);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(r.offset() + ":" + new String(r.value(), StandardCharsets.UTF_8));
                }
            }
            assertEquals(end, consumer.position(tp), topic + ": the consumer moves past holes and empty batches");
        }
        return out;
    }

    private List<String> kcatConsume(String kcat, ServerProcess server, String topic, long from) throws Exception {
        return run(kcat, "-C", "-b", server.bootstrap(), "-t", topic, "-p", "0", "-o", Long.toString(from), "-e",
            "-q", "-f", "%o:%s\n").lines().toList();
    }

    private String run(String... command) throws IOException, InterruptedException {
        Path log = dir.resolve("tool.log");
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

    /** The batches in the topic's segment files (server stopped): {count, lastOffsetDelta, codec} each. */
    private static List<int[]> storedBatches(Path dataDir, String topic) throws IOException {
        List<int[]> out = new ArrayList<>();
        List<Path> logs;
        try (Stream<Path> files = Files.walk(dataDir)) {
            logs = files.filter(f -> f.getFileName().toString().endsWith(".log")
                && f.getParent().getFileName().toString().equals(topic + "-0")).sorted().toList();
        }
        if (logs.isEmpty()) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                throw new AssertionError("no segment of " + topic + " in " + files.map(Path::toString).toList());
            }
        }
        for (Path f : logs) {
            ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(f));
            int pos = 0;
            RecordBatch b = new RecordBatch();
            while (file.capacity() - pos >= RecordBatch.HEADER_SIZE) {
                b.wrap(file, pos);
                if (b.batchLength() <= 0 || b.validateStored(file.capacity() - pos, Integer.MAX_VALUE)
                    != RecordBatch.Validation.VALID) {
                    break; // preallocated tail
                }
                out.add(new int[] {b.recordsCount(), b.lastOffsetDelta(), b.compression()});
                pos += b.sizeInBytes();
            }
        }
        return out;
    }

    private static void assertStoredCompressedWithHolesAndEmpty(List<int[]> batches, int codecId, String what) {
        boolean holes = false;
        boolean empty = false;
        for (int[] b : batches) {
            if (b[0] == 0) {
                empty = true;
                assertEquals(0, b[2], what + ": an empty batch has its codec bits cleared");
            } else {
                assertEquals(codecId, b[2], what + ": every batch with records stored with the producer's codec");
                holes |= b[0] < b[1] + 1;
            }
        }
        assertTrue(holes, what + ": a compressed batch with holes was stored");
        assertTrue(empty, what + ": a batch of only repeats was stored empty");
    }

    private static int codecId(String codec) {
        return switch (codec) {
            case "gzip" -> 1;
            case "snappy" -> 2;
            case "lz4" -> 3;
            case "zstd" -> 4;
            default -> throw new IllegalArgumentException(codec);
        };
    }

    @Test
    void compressedRepeatsFromKafkaClientsAndLibrdkafkaAreDroppedAndEveryReaderReadsTheSurvivors() throws Exception {
        Map<String, List<String>> expected = new LinkedHashMap<>();
        Map<String, Integer> codecs = new LinkedHashMap<>();
        String kcat = DedupInteropTest.kcat();
        boolean librdkafka = true;
        try (ServerProcess server = server("on", true)) {
            for (String codec : KAFKA_CODECS) {
                String topic = "kc-" + codec;
                List<long[]> sent = sendWithKafkaClients(server, topic, codec);
                assertEquals(SENT, sent.size());
                expected.put(topic, expected(sent));
                codecs.put(topic, codecId(codec));
            }
            for (String codec : LIBRDKAFKA_CODECS) {
                String topic = "rd-" + codec;
                List<long[]> sent;
                try {
                    sent = sendWithLibrdkafka(server, topic, codec);
                } catch (org.opentest4j.TestAbortedException e) {
                    librdkafka = false;
                    break;
                }
                assertEquals(SENT, sent.size());
                expected.put(topic, expected(sent));
                codecs.put(topic, codecId(codec));
            }
            for (Map.Entry<String, List<String>> e : expected.entrySet()) {
                String topic = e.getKey();
                List<String> want = e.getValue();
                assertEquals(DISTINCT, want.size());
                long end = SENT;
                assertEquals(want, logReader(server, topic), topic + ": LogReader");
                assertEquals(want, kafkaConsumer(server, topic, 0, end), topic + ": KafkaConsumer");
                // From inside the empty batch (session 2's first offset): the rest, from the mixed batch on.
                List<String> tail = want.subList(100, want.size());
                assertEquals(tail, kafkaConsumer(server, topic, 110, end), topic + ": KafkaConsumer from a hole");
                if (kcat != null) {
                    assertEquals(want, kcatConsume(kcat, server, topic, 0), topic + ": kcat -C");
                    assertEquals(tail, kcatConsume(kcat, server, topic, 110), topic + ": kcat -C from a hole");
                }
            }
            if (kcat != null) {
                // kcat -P -z: its -H gives every message of one run the same id, so a run's records after the
                // first are repeats within the batch (stored once, compressed again); a second run is all repeats.
                Path lines = dir.resolve("lines.txt");
                Files.writeString(lines, "line-0-" + "y".repeat(80) + "\nline-1-" + "y".repeat(80) + "\nline-2-"
                    + "y".repeat(80) + "\n");
                for (String[] run : new String[][] {{"lz4", "k1"}, {"zstd", "k1"}, {"gzip", "k2"}}) {
                    run(kcat, "-P", "-b", server.bootstrap(), "-t", "kcat-z", "-p", "0", "-z", run[0], "-H",
                        HEADER + "=" + run[1], "-X", "enable.idempotence=true", "-l", lines.toString());
                }
                assertEquals(List.of("0:line-0-" + "y".repeat(80), "6:line-0-" + "y".repeat(80)),
                    kcatConsume(kcat, server, "kcat-z", 0), "kcat -z -H: one record per id");
                assertEquals(kcatConsume(kcat, server, "kcat-z", 0), logReader(server, "kcat-z"));
                assertEquals(kcatConsume(kcat, server, "kcat-z", 0), kafkaConsumer(server, "kcat-z", 0, 9));
            }
        }
        for (Map.Entry<String, Integer> e : codecs.entrySet()) {
            assertStoredCompressedWithHolesAndEmpty(storedBatches(dir.resolve("on"), e.getKey()), e.getValue(),
                e.getKey());
        }
        try (ServerProcess control = server("off", false)) {
            List<long[]> sent = sendWithKafkaClients(control, "kc-lz4", "lz4");
            assertEquals(SENT, logReader(control, "kc-lz4").size(),
                "control: without de-duplication every repeat is stored again");
            assertEquals(SENT, kafkaConsumer(control, "kc-lz4", 0, SENT).size());
            assertEquals(SENT, sent.size());
        }
        if (!librdkafka) {
            Assumptions.abort("no python3 with confluent_kafka: the librdkafka producer part was not tested");
        }
    }
}
