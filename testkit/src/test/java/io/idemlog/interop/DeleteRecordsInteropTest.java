package io.idemlog.interop;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ChildJvm;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeleteRecords and DescribeLogDirs end to end, against a server process: the AdminClient of kafka-clients 3.9.x and
 * 4.x ({@link LogStartDriver} in a child JVM), and Kafka's own tools as classes (DeleteRecordsCommand with a JSON
 * offsets file, LogDirsCommand --describe, kafka-tools 4.1 on the test class path). Checked on the server: a
 * KafkaConsumer seeking to the beginning starts at the new log start N, one at N-1 gets OffsetOutOfRange
 * (auto.offset.reset=none) or is reset to N (earliest), kcat -o beginning reads from N, the segment files entirely
 * below N are removed, the sizes DescribeLogDirs reports are the segment files', and after a SIGKILL and a restart
 * all of that still holds and produce continues at the log end.
 */
@Tag("slow")
class DeleteRecordsInteropTest {
    private static final int RECORDS = 100;

    @TempDir
    Path dir;
    private int runs;

    private Map<String, String> driver(ServerProcess server, String major, String topic, String... args)
        throws IOException {
        int run = runs++;
        Path out = dir.resolve("driver-" + run + ".out");
        Path log = dir.resolve("driver-" + run + ".log");
        List<String> all = new java.util.ArrayList<>(List.of(server.bootstrap(), topic, out.toString()));
        all.addAll(List.of(args));
        Process p = ChildJvm.launch(ChildJvm.javaCommand(List.of("-Xmx256m"),
            KafkaClientsInteropTest.driverClasspath(major), LogStartDriver.class.getName(), all), log,
            "log start driver " + major + ".x");
        boolean exited = ChildJvm.waitFor(p, Duration.ofSeconds(180));
        if (!exited) {
            ChildJvm.kill(p, Duration.ofSeconds(10));
        }
        assertTrue(exited && p.exitValue() == 0, "driver failed (exit " + (exited ? p.exitValue() : "timeout")
            + "):\n" + ChildJvm.tail(log, 4000) + "\nserver:\n" + server.logTail(3000));
        Map<String, String> facts = new HashMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            int sp = line.indexOf(' ');
            facts.put(line.substring(0, sp), line.substring(sp + 1));
        }
        return facts;
    }

    private static ServerProcess start(Path dir, String topic) {
        return ServerProcess.builder(dir.resolve("server"))
            .override("create.topics", topic + ":1")
            .override("log.segment.bytes", "4096") // ~10 batches of one 300-byte record per segment
            .override("log.segment.delete.delay.ms", "0")
            .override("log.preallocate", "false")
            .logFile(dir.resolve("server-" + topic + ".log"))
            .start();
    }

    /** Base offsets of the segment files of partition 0. */
    private static List<Long> segmentBases(ServerProcess server, String topic) throws IOException {
        try (Stream<Path> s = Files.list(server.dataDir().resolve("topics").resolve(topic + "-0"))) {
            return s.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".log"))
                .map(n -> Long.parseLong(n.substring(0, 20))).sorted().toList();
        }
    }

    private static long segmentBytes(ServerProcess server, String topic) throws IOException {
        try (Stream<Path> s = Files.list(server.dataDir().resolve("topics").resolve(topic + "-0"))) {
            long total = 0;
            for (Path f : s.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }

    private static void awaitSegmentsFrom(ServerProcess server, String topic, long start) {
        Await.until(() -> "the segments entirely below " + start + " are removed", Duration.ofSeconds(30), () -> {
            try {
                List<Long> bases = segmentBases(server, topic);
                // the first remaining segment holds the start (the next one starts above it)
                return bases.get(0) <= start && (bases.size() == 1 || bases.get(1) > start);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @ParameterizedTest(name = "kafka-clients {0}.x")
    @ValueSource(strings = {"3", "4"})
    void theAdminClientDeletesRecordsAndConsumersStartAtTheNewLogStartAlsoAfterAKill(String major)
        throws Exception {
        String topic = "dr" + major;
        long n = 37;
        try (ServerProcess server = start(dir, topic)) {
            Map<String, String> produced = driver(server, major, topic, "produce", String.valueOf(RECORDS));
            assertTrue(produced.get("version").startsWith(major.equals("3") ? "3.9" : "4."), produced.get("version"));
            assertEquals(String.valueOf(RECORDS - 1), produced.get("last"));
            List<Long> before = segmentBases(server, topic);
            assertTrue(before.size() >= 5 && before.get(1) < n, "segments before: " + before);

            Map<String, String> f = driver(server, major, topic, "delete", String.valueOf(n));
            assertEquals(String.valueOf(n), f.get("low"), "the low watermark is the new log start");
            assertEquals("OffsetOutOfRangeException", f.get("above"));
            assertEquals(String.valueOf(n), f.get("below"), "below the start: no change, the current start");
            assertEquals("1", f.get("producers"), "DescribeProducers unaffected: the producer's state is kept");
            assertEquals(server.dataDir().toString() + " true", f.get("logdir"));
            assertTrue(f.get("size").endsWith(" 0 false"), "offset lag 0, not a future replica: " + f.get("size"));
            String[] total = f.get("total").split(" ");
            assertTrue(Long.parseLong(total[0]) > 0 && Long.parseLong(total[1]) >= 0, f.get("total"));
            assertEquals(String.valueOf(n), f.get("beginning"), "seekToBeginning starts at the new log start");
            assertEquals("OffsetOutOfRangeException", f.get("none"), "a fetch at N-1 is OFFSET_OUT_OF_RANGE");
            assertEquals(String.valueOf(n), f.get("reset"), "auto.offset.reset=earliest resets to N");
            awaitSegmentsFrom(server, topic, n);
            assertFalse(Files.exists(server.dataDir().resolve("topics").resolve(topic + "-0")
                .resolve(String.format("%020d.log", 0))), "the first segment's file is gone");
            assertEquals(n, kcatFirstOffset(server, topic), "kcat -o beginning reads from N");

            server.kill();
            server.start();
            Map<String, String> a = driver(server, major, topic, "after", String.valueOf(n));
            assertEquals(String.valueOf(n), a.get("beginning"), "after SIGKILL and restart");
            assertEquals("OffsetOutOfRangeException", a.get("none"));
            assertEquals("1", a.get("producers"), "the producer state survives the restart too");
            assertEquals(String.valueOf(segmentBytes(server, topic)), a.get("size").split(" ")[0],
                "DescribeLogDirs' size is the segment files' bytes");
            Map<String, String> more = driver(server, major, topic, "produce", "3");
            assertEquals(String.valueOf(RECORDS + 2), more.get("last"), "produce continues at the log end");
        }
    }

    private String tool(String main, String... args) throws IOException {
        Path log = dir.resolve("tool-" + (runs++) + ".log");
        Process p = ChildJvm.launch(ChildJvm.javaCommand(List.of("-Xmx256m"), System.getProperty("java.class.path"),
            main, List.of(args)), log, main);
        boolean exited = ChildJvm.waitFor(p, Duration.ofSeconds(90));
        if (!exited) {
            ChildJvm.kill(p, Duration.ofSeconds(10));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(exited && p.exitValue() == 0, main + " " + String.join(" ", args) + " failed (exit "
            + (exited ? p.exitValue() : "timeout") + "):\n" + out);
        return out;
    }

    @Test
    void kafkaDeleteRecordsAndKafkaLogDirsWork() throws Exception {
        String topic = "drtools";
        try (ServerProcess server = start(dir, topic)) {
            driver(server, "4", topic, "produce", String.valueOf(RECORDS));
            Path offsets = dir.resolve("offsets.json");
            Files.writeString(offsets, "{\"version\":1,\"partitions\":[{\"topic\":\"" + topic
                + "\",\"partition\":0,\"offset\":50}]}");
            String deleted = tool("org.apache.kafka.tools.DeleteRecordsCommand", "--bootstrap-server",
                server.bootstrap(), "--offset-json-file", offsets.toString());
            assertTrue(deleted.contains("partition: " + topic + "-0\tlow_watermark: 50"), deleted);
            awaitSegmentsFrom(server, topic, 50);
            assertEquals(50L, kcatFirstOffset(server, topic));
            String dirs = tool("org.apache.kafka.tools.LogDirsCommand", "--bootstrap-server", server.bootstrap(),
                "--describe", "--topic-list", topic);
            assertTrue(dirs.contains("\"logDir\":\"" + server.dataDir() + "\""), dirs);
            // one partition in the JSON (its keys in whatever order the tool's maps give)
            for (String part : List.of("\"partition\":\"" + topic + "-0\"", "\"size\":" + segmentBytes(server, topic),
                "\"offsetLag\":0", "\"isFuture\":false")) {
                assertTrue(dirs.contains(part), part + " in " + dirs);
            }
        }
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

    /** The offset of the first record kcat -C -o beginning prints (-1 when it prints none); needs kcat. */
    private long kcatFirstOffset(ServerProcess server, String topic) throws Exception {
        String kcat = kcat();
        assertTrue(kcat != null, "kcat is needed (apt-get install kcat)");
        Path log = dir.resolve("kcat-" + (runs++) + ".log");
        Process p = new ProcessBuilder(kcat, "-C", "-b", server.bootstrap(), "-t", topic, "-p", "0", "-o",
            "beginning", "-e", "-q", "-f", "%o\n").redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
        byte[] out = p.getInputStream().readAllBytes();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done && p.exitValue() == 0, "kcat failed:\n" + Files.readString(log));
        List<String> lines = new String(out, StandardCharsets.UTF_8).lines().toList();
        return lines.isEmpty() ? -1L : Long.parseLong(lines.get(0).trim());
    }
}
