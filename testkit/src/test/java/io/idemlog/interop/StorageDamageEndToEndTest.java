package io.idemlog.interop;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.message.InitProducerIdRequest;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.testkit.ServerProcess;
import io.idemlog.testkit.WireConnection;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
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
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The crash and corruption suite's end-to-end cases (issue 8; the in-process cases are log-server's
 * StorageDamageTest), against the server in its own JVM, files damaged while it is stopped:
 * <ul>
 *   <li>a flipped byte in the middle of a sealed segment: the offline verifier finds it (and finds nothing before the
 *   damage); after a restart a kafka-clients consumer (CRC check on) receives every record before the damaged batch,
 *   each with the value produced at that offset, then nothing and no exception (KAFKA_STORAGE_ERROR, retriable);
 *   seeking past the segment it reads again; librdkafka (kcat) reads the same records and nothing after;</li>
 *   <li>sparse-index entries moved into the middle of their batches (still increasing, in range): a kafka-clients
 *   consumer still reads every record, in order, with its value;</li>
 *   <li>a garbled meta.properties: the server refuses to start, naming the file;</li>
 *   <li>the producer-ids file deleted: the verifier reports it, the server starts and hands out a producer id above
 *   the one in the log.</li>
 * </ul>
 */
@Tag("slow")
class StorageDamageEndToEndTest {
    private static final String TOPIC = "dmg";
    private static final int RECORDS = 4000;

    @TempDir
    Path dir;

    private ServerProcess.Builder server(Path data) {
        return ServerProcess.builder(data)
            .override("create.topics", TOPIC + ":1")
            .override("log.segment.bytes", "65536")
            .override("log.index.interval.bytes", "1024")
            .logFile(dir.resolve("server.log"));
    }

    private static byte[] value(int i) {
        byte[] v = new byte[100];
        byte[] label = ("record-" + i).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(label, 0, v, 0, label.length);
        return v;
    }

    /** Produces RECORDS records with an idempotent kafka-clients producer, acks=all; returns their offsets. */
    private static long[] produce(ServerProcess server, int from, int count) throws Exception {
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap());
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        pp.put(ProducerConfig.BATCH_SIZE_CONFIG, "2048");
        long[] offsets = new long[count];
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
            new ByteArraySerializer())) {
            List<Future<org.apache.kafka.clients.producer.RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                acks.add(producer.send(new ProducerRecord<>(TOPIC, 0, null, value(from + i))));
            }
            producer.flush();
            for (int i = 0; i < count; i++) {
                offsets[i] = acks.get(i).get(60, TimeUnit.SECONDS).offset();
            }
        }
        return offsets;
    }

    private static List<Path> segments(Path data) throws IOException {
        try (Stream<Path> s = Files.list(data.resolve("topics").resolve(TOPIC + "-0"))) {
            return s.filter(p -> p.toString().endsWith(".log")).sorted().toList();
        }
    }

    /** {position, baseOffset, producerId} of each batch of a segment file. */
    private static List<long[]> batches(Path segment) throws IOException {
        List<long[]> result = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
            long p = 0;
            ByteBuffer h = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
            while (p + RecordBatch.HEADER_SIZE <= ch.size()) {
                h.clear();
                ch.read(h, p);
                int length = h.getInt(RecordBatch.LENGTH_OFFSET);
                if (length <= 0) {
                    break;
                }
                result.add(new long[] {p, h.getLong(RecordBatch.BASE_OFFSET_OFFSET),
                    h.getLong(RecordBatch.PRODUCER_ID_OFFSET)});
                p += RecordBatch.LOG_OVERHEAD + length;
            }
        }
        return result;
    }

    /** Runs the offline verifier ({@code Main verify DIR}) in its own JVM; returns {exit code, output}. */
    private static Object[] verify(Path data) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "io.idemlog.server.Main",
            "verify", data.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "verify finished");
        return new Object[] {p.exitValue(), out};
    }

    @Test
    void aFlippedByteInASealedSegmentIsFoundOfflineAndConsumersGetEverythingBeforeItAndNothingWrong()
        throws Exception {
        Path data = dir.resolve("data");
        long[] offsets;
        try (ServerProcess s = server(data).start()) {
            offsets = produce(s, 0, RECORDS);
            assertTrue(s.stop(), "clean stop");
            Object[] clean = verify(data);
            assertEquals(0, clean[0], "a clean directory verifies: " + clean[1]);

            List<Path> segments = segments(data);
            assertTrue(segments.size() >= 3, "several segments: " + segments);
            List<long[]> batches = batches(segments.get(0));
            long[] damaged = batches.get(batches.size() / 2);
            long damagedOffset = damaged[1];
            try (FileChannel ch = FileChannel.open(segments.get(0), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.allocate(1);
                long at = damaged[0] + RecordBatch.RECORDS_OFFSET + 5;
                ch.read(b, at);
                b.put(0, (byte) (b.get(0) ^ 0x01)).rewind();
                ch.write(b, at);
            }
            Object[] found = verify(data);
            assertEquals(1, found[0], String.valueOf(found[1]));
            assertTrue(((String) found[1]).contains("DAMAGE " + segments.get(0) + " at byte " + damaged[0]
                + ": CRC mismatch"), String.valueOf(found[1]));

            s.start();
            long segment1Base = Long.parseLong(segments.get(1).getFileName().toString().replace(".log", ""));
            consumeWithKafkaClients(s, offsets, damagedOffset, segment1Base);
            consumeWithKcat(s, damagedOffset);
            assertTrue(s.logTail(1 << 20).contains("damaged sealed segment at byte " + damaged[0]),
                "the server logs the file and the byte");
        }
    }

    private static void consumeWithKafkaClients(ServerProcess s, long[] offsets, long damagedOffset, long nextSegment) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrap());
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.CHECK_CRCS_CONFIG, "true");
        cp.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "16384");
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long next = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (next < damagedOffset && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    assertEquals(next, r.offset(), "offsets in order, none skipped");
                    int index = indexOf(offsets, r.offset());
                    assertTrue(java.util.Arrays.equals(value(index), r.value()), "the value produced at " + r.offset());
                    next++;
                }
            }
            assertEquals(damagedOffset, next, "every record before the damaged batch");
            // A bounded window to observe the absence of anything past the damage (and of an exception).
            for (int i = 0; i < 10; i++) {
                assertTrue(consumer.poll(Duration.ofMillis(200)).isEmpty(), "nothing served at the damaged batch");
            }
            consumer.seek(tp, nextSegment);
            List<ConsumerRecord<byte[], byte[]>> after = new ArrayList<>();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (after.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(after::add);
            }
            assertTrue(!after.isEmpty(), "the next segment is still served");
            assertEquals(nextSegment, after.get(0).offset());
        }
    }

    private static int indexOf(long[] offsets, long offset) {
        for (int i = 0; i < offsets.length; i++) {
            if (offsets[i] == offset) {
                return i;
            }
        }
        throw new AssertionError("offset " + offset + " was never acknowledged");
    }

    private static String kcat() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(d, "kcat");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    private void consumeWithKcat(ServerProcess s, long damagedOffset) throws Exception {
        String kcat = kcat();
        if (kcat == null) {
            assertTrue(System.getenv("IDEMLOG_REQUIRE_KCAT") == null, "kcat is required (IDEMLOG_REQUIRE_KCAT is "
                + "set) but not on the PATH: apt-get install kcat");
            System.out.println("kcat not found on the PATH: the librdkafka half of this test is skipped");
            return;
        }
        Path log = dir.resolve("kcat.log");
        Process before = new ProcessBuilder(kcat, "-C", "-b", s.bootstrap(), "-t", TOPIC, "-p", "0", "-o",
            "beginning", "-c", String.valueOf(damagedOffset), "-f", "%o\\n", "-X", "check.crcs=true")
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        String out = new String(before.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(before.waitFor(60, TimeUnit.SECONDS) && before.exitValue() == 0, "kcat read the records before "
            + "the damage: " + Files.readString(log));
        String[] lines = out.split("\n");
        assertEquals(damagedOffset, lines.length);
        for (int i = 0; i < lines.length; i++) {
            assertEquals(String.valueOf(i), lines[i].trim());
        }
        // At the damaged batch: librdkafka retries the storage error; within the window it must print nothing.
        Process at = new ProcessBuilder(kcat, "-C", "-b", s.bootstrap(), "-t", TOPIC, "-p", "0", "-o",
            String.valueOf(damagedOffset), "-c", "1", "-f", "%o\\n", "-X", "check.crcs=true")
            .redirectOutput(dir.resolve("kcat-at.out").toFile())
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        boolean exited = at.waitFor(4, TimeUnit.SECONDS);
        if (!exited) {
            at.destroyForcibly();
            at.waitFor(10, TimeUnit.SECONDS);
        }
        String atOut = Files.readString(dir.resolve("kcat-at.out"));
        assertEquals("", atOut, "kcat got nothing at the damaged batch");
        assertTrue(!exited || at.exitValue() != 0, "kcat did not report a message at the damaged batch");
    }

    @Test
    void anIndexEntryPointingInsideABatchStillGivesConsumersEveryRecordFromBatchBoundaries() throws Exception {
        Path data = dir.resolve("index");
        try (ServerProcess s = server(data).start()) {
            long[] offsets = produce(s, 0, RECORDS);
            assertTrue(s.stop());
            Path index = segments(data).get(0).resolveSibling(
                segments(data).get(0).getFileName().toString().replace(".log", ".index"));
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(index));
            int entries = b.limit() / 16;
            assertTrue(entries >= 4, "entries " + entries);
            for (int k = 1; k < entries - 1; k += 2) { // every other entry, still increasing and in range
                b.putInt(k * 16 + 4, b.getInt(k * 16 + 4) + 7);
            }
            Files.write(index, b.array());
            s.start();
            Properties cp = new Properties();
            cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrap());
            cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            cp.put(ConsumerConfig.CHECK_CRCS_CONFIG, "true");
            cp.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "4096");
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                long next = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (next < RECORDS && System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        assertEquals(next, r.offset(), "offsets in order, none skipped");
                        assertTrue(java.util.Arrays.equals(value(indexOf(offsets, r.offset())), r.value()));
                        next++;
                    }
                }
                assertEquals(RECORDS, next, "every record, through the misleading index");
            }
            assertTrue(s.logTail(1 << 20).contains("rebuilding the index of this segment from the log"),
                "the server logs the wrong index");
        }
    }

    @Test
    void aGarbledMetaPropertiesRefusesTheStartNamingTheFile() throws Exception {
        Path data = dir.resolve("meta");
        try (ServerProcess s = server(data).start()) {
            assertTrue(s.stop());
            Files.write(data.resolve("meta.properties"), new byte[] {(byte) 0xff, (byte) 0xfe, 'x', '=', 1});
            IllegalStateException refused = assertThrows(IllegalStateException.class, s::start);
            assertTrue(refused.getMessage().contains("meta.properties"), refused.getMessage());
            assertEquals(1, s.exitCode(), "a start failure");
        }
    }

    @Test
    void aDeletedProducerIdsFileIsReportedAndNoProducerIdIsReused() throws Exception {
        Path data = dir.resolve("pids");
        try (ServerProcess s = server(data).start()) {
            produce(s, 0, 100);
            assertTrue(s.stop());
            long used = -1;
            for (Path segment : segments(data)) {
                for (long[] b : batches(segment)) {
                    used = Math.max(used, b[2]);
                }
            }
            assertTrue(used >= 0, "the log holds the producer's id");
            Files.delete(data.resolve("producer-ids"));
            Object[] found = verify(data);
            assertEquals(1, found[0], String.valueOf(found[1]));
            assertTrue(((String) found[1]).contains("producer-ids: missing, but producer id " + used),
                String.valueOf(found[1]));
            s.start();
            try (WireConnection c = WireConnection.connect(s.address(), Duration.ofSeconds(10))) {
                InitProducerIdResponse rsp = c.request(ApiKey.INIT_PRODUCER_ID,
                    c.version(ApiKey.INIT_PRODUCER_ID, (short) 2), new InitProducerIdRequest(),
                    InitProducerIdResponse::read);
                assertEquals(0, rsp.errorCode);
                assertTrue(rsp.producerId > used, "new id " + rsp.producerId + " above " + used);
            }
        }
    }
}
