package io.idemlog.interop;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.ServerProcess;
import io.idemlog.testkit.WireConnection;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compressed produce end to end, for each codec (gzip, snappy, lz4, zstd): kafka-clients 4.x and librdkafka (kcat
 * -z) produce idempotently to an idemlog server in its own JVM; the batches in the segment files carry that codec
 * (attributes bits read from the files); a KafkaConsumer and kcat -C read back exactly what was sent. A compressed
 * batch broken inside (CRC valid) is refused with CORRUPT_MESSAGE and nothing is appended. And what idemlog
 * advertises in ApiVersions is compared with Apache Kafka's (the testkit's KafkaBroker).
 *
 * <p>librdkafka only compresses when its feature detection, from the broker's ApiVersions, allows the codec (and
 * otherwise sends the batch uncompressed without a word): gzip and snappy need Produce v0..v2 in the advertised
 * range, lz4 also FindCoordinator v0, zstd Produce v7 and Fetch v10. The kcat test computes the codec to expect
 * from what the server advertises (so a stored codec that does not match what librdkafka should do fails), and
 * requires that idemlog advertises enough for all four.
 */
@Tag("slow")
class CompressionInteropTest {
    private static final Compression[] CODECS = {Compression.GZIP, Compression.SNAPPY, Compression.LZ4,
        Compression.ZSTD};
    private static final int RECORDS = 20_000;

    @TempDir
    Path dir;

    private static String topics(String prefix) {
        return Stream.of(CODECS).map(c -> prefix + c.kafkaName + ":1").collect(Collectors.joining(","));
    }

    static List<String> values(String label, int n) {
        List<String> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            values.add("{\"seq\":" + i + ",\"src\":\"" + label + "\",\"user\":\"user-" + (i % 101)
                + "\",\"event\":\"page_view\",\"path\":\"/catalog/item/" + (i * 31 % 1000) + "\",\"agent\":\""
                + "Mozilla/5.0 (X11; Linux x86_64)\"}");
        }
        return values;
    }

    /** The codec ids of the batches in a partition's segment files, in log order. */
    static List<Integer> storedCodecs(Path dataDir, String topic) throws IOException {
        return segmentCodecs(dataDir.resolve("topics").resolve(topic + "-0"));
    }

    /** The codec ids of the batches in the {@code .log} files of a partition directory (idemlog's or Kafka's). */
    public static List<Integer> segmentCodecs(Path partitionDir) throws IOException {
        List<Path> segments;
        try (Stream<Path> files = Files.list(partitionDir)) {
            segments = files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
        }
        List<Integer> codecs = new ArrayList<>();
        for (Path segment : segments) {
            ByteBuffer bytes;
            try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
                bytes = ByteBuffer.allocate((int) ch.size());
                while (bytes.hasRemaining() && ch.read(bytes) > 0) {
                    // read fully
                }
            }
            bytes.flip();
            int p = 0;
            RecordBatch batch = new RecordBatch();
            while (p < bytes.limit()) {
                batch.wrap(bytes, p);
                if (batch.validate(bytes.limit() - p, Integer.MAX_VALUE) != RecordBatch.Validation.VALID) {
                    break; // preallocated zeros after the last batch
                }
                codecs.add(batch.compression());
                p += batch.sizeInBytes();
            }
        }
        return codecs;
    }

    static void assertAllStoredAs(int codec, List<Integer> codecs, String what) {
        assertFalse(codecs.isEmpty(), what + ": no batch stored");
        for (int c : codecs) {
            assertEquals(codec, c, what + ": stored codecs " + codecs);
        }
    }

    @Test
    void kafkaClientsProducesEveryCodecIdempotentlyAndReadsItBack() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", topics("kc-"))
            .logFile(dir.resolve("server.log"))
            .start()) {
            for (Compression codec : CODECS) {
                String topic = "kc-" + codec.kafkaName;
                List<String> values = values(topic, RECORDS);
                Properties pp = new Properties();
                pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap());
                pp.put(ProducerConfig.ACKS_CONFIG, "all");
                pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
                pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec.kafkaName);
                pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
                pp.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(),
                    new StringSerializer())) {
                    List<Future<RecordMetadata>> acks = new ArrayList<>(RECORDS);
                    for (String v : values) {
                        acks.add(producer.send(new ProducerRecord<>(topic, 0, null, v)));
                    }
                    producer.flush();
                    for (int i = 0; i < RECORDS; i++) {
                        assertEquals(i, acks.get(i).get(30, TimeUnit.SECONDS).offset(), codec + " record " + i);
                    }
                }
                assertAllStoredAs(codec.id, storedCodecs(server.dataDir(), topic), "kafka-clients " + codec);
                assertEquals(values, consume(server.bootstrap(), topic, RECORDS), "KafkaConsumer reads " + codec);
            }
        }
    }

    static List<String> consume(String bootstrap, String topic, int expected) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<String> got = new ArrayList<>(expected);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(),
            new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (got.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    got.add(r.value());
                }
            }
        }
        return got;
    }

    // ------------------------------------------------------------------ librdkafka

    private static String kcat() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(d, "kcat");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    private static String run(Path log, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        byte[] out = p.getInputStream().readAllBytes();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done && p.exitValue() == 0, String.join(" ", command) + " failed:\n" + Files.readString(log));
        return new String(out, StandardCharsets.UTF_8);
    }

    static Map<Short, short[]> advertised(java.net.InetSocketAddress address) throws IOException {
        try (WireConnection c = WireConnection.connect(address, Duration.ofSeconds(10))) {
            ApiVersionsResponse rsp = c.request(ApiKey.API_VERSIONS, (short) 3, apiVersionsRequest(),
                ApiVersionsResponse::read);
            assertEquals(0, rsp.errorCode);
            Map<Short, short[]> m = new TreeMap<>();
            for (ApiVersionsResponse.ApiVersion v : rsp.apiKeys) {
                m.put(v.apiKey, new short[] {v.minVersion, v.maxVersion});
            }
            return m;
        }
    }

    private static io.idemlog.common.protocol.message.ApiVersionsRequest apiVersionsRequest() {
        io.idemlog.common.protocol.message.ApiVersionsRequest req =
            new io.idemlog.common.protocol.message.ApiVersionsRequest();
        req.clientSoftwareName = "idemlog-test";
        req.clientSoftwareVersion = "1.0";
        return req;
    }

    private static boolean covers(Map<Short, short[]> apis, int key, int min, int max) {
        short[] range = apis.get((short) key);
        return range != null && range[0] <= min && range[1] >= max;
    }

    /** The codec librdkafka 2.x actually uses for {@code wanted} against a broker advertising {@code apis}. */
    static int librdkafkaCodec(Compression wanted, Map<Short, short[]> apis) {
        boolean produceV0to2 = covers(apis, 0, 0, 2);
        boolean ok = switch (wanted) {
            case GZIP, SNAPPY -> produceV0to2;
            case LZ4 -> produceV0to2 && covers(apis, 10, 0, 0); // FindCoordinator
            case ZSTD -> covers(apis, 0, 7, 7) && covers(apis, 1, 10, 10);
            default -> true;
        };
        return ok ? wanted.id : Compression.NONE.id;
    }

    @Test
    void kcatProducesEveryCodecIdempotentlyAndReadsItBack() throws Exception {
        String kcat = kcat();
        if (kcat == null) {
            assertTrue(System.getenv("IDEMLOG_REQUIRE_KCAT") == null, "kcat is required (IDEMLOG_REQUIRE_KCAT is "
                + "set) but not on the PATH: apt-get install kcat");
            Assumptions.abort("kcat not found on the PATH (apt-get install kcat): librdkafka compression not tested");
        }
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", topics("rd-"))
            .logFile(dir.resolve("server.log"))
            .start()) {
            Map<Short, short[]> apis = advertised(server.address());
            for (Compression codec : CODECS) {
                String topic = "rd-" + codec.kafkaName;
                List<String> lines = values(topic, RECORDS);
                Path input = dir.resolve(topic + ".txt");
                Files.write(input, lines, StandardCharsets.UTF_8);
                Path log = dir.resolve(topic + ".log");
                run(log, kcat, "-P", "-b", server.bootstrap(), "-t", topic, "-p", "0", "-z", codec.kafkaName,
                    "-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=5", "-l", input.toString());
                int expected = librdkafkaCodec(codec, apis);
                System.out.println("kcat -z " + codec.kafkaName + ": expecting stored codec " + expected);
                assertAllStoredAs(expected, storedCodecs(server.dataDir(), topic), "kcat -z " + codec.kafkaName);
                String out = run(log, kcat, "-C", "-b", server.bootstrap(), "-t", topic, "-p", "0", "-o",
                    "beginning", "-e", "-q", "-f", "%s\n");
                assertEquals(lines, out.lines().toList(), "kcat -C reads back every line of " + codec.kafkaName);
            }
            // idemlog advertises what librdkafka needs for every codec (lz4: FindCoordinator, served since the
            // consumer-group work): librdkafka must really compress them all
            for (Compression codec : CODECS) {
                assertEquals(codec.id, librdkafkaCodec(codec, apis), codec + " allowed by what idemlog advertises");
            }
        }
    }

    // ------------------------------------------------------------------ bad compressed batches

    private static ProduceResponse.PartitionResponse produce(ServerProcess server, String topic, ByteBuffer batch)
        throws IOException {
        try (WireConnection c = WireConnection.connect(server.address(), Duration.ofSeconds(10))) {
            ProduceRequest req = new ProduceRequest();
            req.acks = -1;
            req.timeoutMs = 30_000;
            ProduceRequest.TopicData t = new ProduceRequest.TopicData(topic);
            t.partitions.add(new ProduceRequest.PartitionData(0,
                new io.idemlog.common.protocol.MemoryRecords(batch)));
            req.topics.add(t);
            short v = c.version(ApiKey.PRODUCE, (short) 9);
            return c.request(ApiKey.PRODUCE, v, req, ProduceResponse::read).topics.get(0).partitions.get(0);
        }
    }

    private static ByteBuffer kafkaBatch(Compression codec, int records) {
        SimpleRecord[] rs = values("bad-" + codec.kafkaName, records).stream()
            .map(v -> new SimpleRecord(System.currentTimeMillis(), (byte[]) null, v.getBytes(StandardCharsets.UTF_8)))
            .toArray(SimpleRecord[]::new);
        ByteBuffer b = MemoryRecords.withRecords(org.apache.kafka.common.compress.Compression.of(codec.kafkaName)
            .build(), rs).buffer();
        ByteBuffer copy = ByteBuffer.allocate(b.remaining());
        copy.put(b.duplicate()).flip();
        return copy;
    }

    @Test
    void aCompressedBatchBrokenInsideIsRefusedWithCorruptMessageAndNothingIsAppended() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", topics("bad-"))
            .logFile(dir.resolve("server.log"))
            .start()) {
            for (Compression codec : CODECS) {
                String topic = "bad-" + codec.kafkaName;
                // control: the intact batch goes in at offset 0
                ProduceResponse.PartitionResponse ok = produce(server, topic, kafkaBatch(codec, 500));
                assertEquals(ErrorCode.NONE.code, ok.errorCode, codec + ": " + ok.errorMessage);
                assertEquals(0L, ok.baseOffset);
                // the same batch with its compressed stream cut short, batchLength and CRC fixed up
                ByteBuffer cut = kafkaBatch(codec, 500);
                int size = cut.limit() - 5;
                cut.limit(size);
                cut.putInt(RecordBatch.LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
                new RecordBatch(cut, 0).updateCrc();
                ProduceResponse.PartitionResponse bad = produce(server, topic, cut);
                assertEquals(ErrorCode.CORRUPT_MESSAGE.code, bad.errorCode, codec + ": " + bad.errorMessage);
                // one record too many announced in the header
                ByteBuffer count = kafkaBatch(codec, 500);
                count.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 501);
                count.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 500);
                new RecordBatch(count, 0).updateCrc();
                bad = produce(server, topic, count);
                assertEquals(ErrorCode.CORRUPT_MESSAGE.code, bad.errorCode, codec + ": " + bad.errorMessage);
                // nothing appended: one batch in the file, and the next good batch goes in at offset 500
                assertEquals(List.of(codec.id), storedCodecs(server.dataDir(), topic));
                ok = produce(server, topic, kafkaBatch(codec, 10));
                assertEquals(ErrorCode.NONE.code, ok.errorCode, codec + ": " + ok.errorMessage);
                assertEquals(500L, ok.baseOffset);
            }
        }
    }

    // ------------------------------------------------------------------ ApiVersions next to Apache Kafka

    @Test
    void produceIsAdvertisedFromVersionZeroAsApacheKafkaDoes() throws Exception {
        Map<Short, short[]> kafka;
        try (KafkaBroker broker = KafkaBroker.builder(dir.resolve("kafka")).numPartitions(1).start()) {
            kafka = advertised(broker.address());
        }
        Map<Short, short[]> idemlog;
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .logFile(dir.resolve("server.log"))
            .start()) {
            idemlog = advertised(server.address());
        }
        StringBuilder table = new StringBuilder("api: kafka min-max | idemlog min-max\n");
        for (Map.Entry<Short, short[]> e : idemlog.entrySet()) {
            short[] k = kafka.get(e.getKey());
            table.append(ApiKey.forId(e.getKey())).append(": ")
                .append(k == null ? "-" : k[0] + "-" + k[1]).append(" | ")
                .append(e.getValue()[0]).append('-').append(e.getValue()[1]).append('\n');
        }
        System.out.println(table);
        assertEquals(kafka.get((short) 0)[0], idemlog.get((short) 0)[0], "Produce min version\n" + table);
        for (Compression codec : CODECS) {
            assertEquals(librdkafkaCodec(codec, kafka), librdkafkaCodec(codec, idemlog),
                codec + ": librdkafka compresses against idemlog as against Kafka\n" + table);
        }
        assertEquals(Compression.LZ4.id, librdkafkaCodec(Compression.LZ4, kafka));
    }
}
