package io.idemlog.interop;

import io.idemlog.common.record.Compression;
import io.idemlog.testkit.ChildJvm;
import io.idemlog.testkit.HistoryChecker;
import io.idemlog.testkit.HistoryReport;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.LoggedRecord;
import io.idemlog.testkit.RecordTag;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official Java client, in both a 3.9.x and a 4.x version, against an idemlog server in its own JVM: an
 * idempotent producer (acks=all) sends 100,000 records to a 4-partition topic, and a KafkaConsumer with assign()
 * reads back exactly those records, in order per partition, none twice. The log is also read back independently
 * with the testkit's LogReader.
 */
@Tag("slow")
class KafkaClientsInteropTest {
    private static final int RECORDS = Integer.getInteger("interop.records", 100_000);
    private static final int PARTITIONS = 4;

    @TempDir
    Path dir;

    /** A class path with exactly one kafka-clients version, plus what the driver needs. */
    static String driverClasspath(String kafkaMajor) {
        List<String> cp = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = Paths.get(entry).getFileName().toString();
            boolean kafka = name.startsWith("kafka-clients-") || name.startsWith("kafka_") || name.startsWith("kafka-");
            if (kafka) {
                if (kafkaMajor.equals("4") && name.startsWith("kafka-clients-")) {
                    cp.add(entry);
                }
                continue;
            }
            boolean wanted = name.equals("test-classes") || name.equals("classes") || name.startsWith("slf4j-api")
                || name.startsWith("logback-") || name.startsWith("zstd-jni") || name.startsWith("lz4-java")
                || name.startsWith("snappy-java");
            if (wanted) {
                cp.add(entry);
            }
        }
        if (kafkaMajor.equals("3")) {
            Path dir = Paths.get(System.getProperty("idemlog.kafka3.dir", "target/kafka-clients-3.9.2"));
            cp.add(dir.resolve("kafka-clients-" + System.getProperty("idemlog.kafka3.version", "3.9.2") + ".jar")
                .toString());
        }
        return String.join(File.pathSeparator, cp);
    }

    @ParameterizedTest(name = "kafka-clients {0}.x")
    @ValueSource(strings = {"3", "4"})
    void idempotentProducerAndConsumerOfTheOfficialClientSeeEveryRecordExactlyOnceInOrder(String major)
        throws IOException {
        String topic = "interop" + major;
        try (ServerProcess server = ServerProcess.builder(dir.resolve("server"))
            .override("create.topics", topic + ":" + PARTITIONS)
            .logFile(dir.resolve("server.log"))
            .start()) {
            produceAndConsume(server, major, topic, RECORDS, null);
        }
    }

    /**
     * kafka-clients 3.9 with each codec (issue 10; 4.x is CompressionInteropTest's): every record once, in order, and
     * every stored batch carries the codec.
     */
    @ParameterizedTest(name = "kafka-clients 3.x, compression.type={0}")
    @ValueSource(strings = {"gzip", "snappy", "lz4", "zstd"})
    void kafkaClients3CompressesWithEachCodec(String codec) throws IOException {
        String topic = "interop3-" + codec;
        try (ServerProcess server = ServerProcess.builder(dir.resolve("server"))
            .override("create.topics", topic + ":" + PARTITIONS)
            .logFile(dir.resolve("server.log"))
            .start()) {
            produceAndConsume(server, "3", topic, 20_000, codec);
            int id = Compression.forName(codec).id;
            for (int p = 0; p < PARTITIONS; p++) {
                CompressionInteropTest.assertAllStoredAs(id, CompressionInteropTest.segmentCodecs(
                    server.dataDir().resolve("topics").resolve(topic + "-" + p)), "kafka-clients 3.x " + codec);
            }
        }
    }

    /**
     * Runs the driver with kafka-clients {@code major}.x (compression.type {@code compression} unless null) and checks
     * its acknowledgements and what its consumer read, and the log read back with LogReader, with the HistoryChecker.
     */
    private void produceAndConsume(ServerProcess server, String major, String topic, int records, String compression)
        throws IOException {
        Path out = dir.resolve("driver.out");
        Path log = dir.resolve("driver.log");
        String label = "kc" + major;
        List<String> args = new ArrayList<>(List.of(server.bootstrap(), topic, String.valueOf(PARTITIONS),
            String.valueOf(records), label, out.toString()));
        if (compression != null) {
            args.add(compression);
        }
        Process p = ChildJvm.launch(ChildJvm.javaCommand(List.of("-Xmx512m"), driverClasspath(major),
            KafkaClientsDriver.class.getName(), args), log, "kafka-clients " + major + ".x driver");
        boolean exited = ChildJvm.waitFor(p, Duration.ofSeconds(300));
        if (!exited) {
            ChildJvm.kill(p, Duration.ofSeconds(10));
        }
        assertTrue(exited && p.exitValue() == 0, "driver failed (exit " + (exited ? p.exitValue() : "timeout")
            + "):\n" + ChildJvm.tail(log, 4000) + "\nserver:\n" + server.logTail(2000));

        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        String version = lines.get(0).substring("version ".length());
        assertTrue(version.startsWith(major.equals("3") ? "3.9" : System.getProperty("idemlog.kafka4.version",
            "4.")), "ran kafka-clients " + version);
        assertTrue(lines.get(1).startsWith("failures 0"), lines.get(1));

        HistoryChecker viaConsumer = new HistoryChecker();
        HistoryChecker viaLogReader = new HistoryChecker();
        for (int i = 0; i < records; i++) {
            RecordTag tag = new RecordTag(label, i % PARTITIONS, i);
            viaConsumer.sent(tag);
            viaLogReader.sent(tag);
        }
        int acked = 0;
        int consumed = 0;
        for (String line : lines.subList(3, lines.size())) {
            String[] f = line.split(" ");
            if (f[0].equals("acked")) {
                RecordTag tag = new RecordTag(label, Integer.parseInt(f[1]), Long.parseLong(f[2]));
                viaConsumer.acked(tag, Long.parseLong(f[3]));
                viaLogReader.acked(tag, Long.parseLong(f[3]));
                acked++;
            } else if (f[0].equals("consumed")) {
                int partition = Integer.parseInt(f[1]);
                long offset = Long.parseLong(f[2]);
                byte[] value = new RecordTag(f[3], Integer.parseInt(f[4]), Long.parseLong(f[5])).encode(100);
                viaConsumer.logged(new LoggedRecord(partition, offset, -1L, null, value));
                consumed++;
            }
        }
        assertEquals(records, acked, "every send acknowledged");
        assertEquals(records, consumed, "the consumer read exactly as many records as were sent");
        HistoryReport consumerReport = viaConsumer.check();
        assertTrue(consumerReport.isClean(), "KafkaConsumer view: " + consumerReport.summary());

        try (LogReader reader = new LogReader(server.address())) {
            reader.readAll(topic, viaLogReader::logged);
        }
        HistoryReport logReport = viaLogReader.check();
        assertTrue(logReport.isClean(), "LogReader view: " + logReport.summary());
        System.out.println("kafka-clients " + version + ": " + lines.get(2) + "; " + consumerReport.summary());
    }
}
