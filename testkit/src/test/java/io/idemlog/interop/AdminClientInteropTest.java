package io.idemlog.interop;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ChildJvm;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka's AdminClient, 3.9.x and 4.x, against an idemlog server in its own JVM (the {@link AdminDriver} in a child
 * JVM with one kafka-clients version): topics created with partitions and configs, refusals with Kafka's
 * exceptions (compaction, an existing topic, replication factor 3), validate-only creating nothing, the configs
 * described with their sources, then checked on the server: the topic's segment.bytes rolled its segments;
 * IncrementalAlterConfigs retention.ms=1 makes retention remove them (the hour before had kept them); the topic grows
 * to 5 partitions; a deletion removes its directories (and with them the producer state) and the topic from the
 * listing.
 */
class AdminClientInteropTest {
    @TempDir
    Path dir;

    private Map<String, String> run(ServerProcess server, String major, String prefix, String mode) throws IOException {
        Path out = dir.resolve("admin-" + mode + ".out");
        Path log = dir.resolve("admin-" + mode + ".log");
        Process p = ChildJvm.launch(ChildJvm.javaCommand(List.of("-Xmx256m"),
            KafkaClientsInteropTest.driverClasspath(major), AdminDriver.class.getName(),
            List.of(server.bootstrap(), prefix, out.toString(), mode)), log, "admin driver " + major + ".x");
        boolean exited = ChildJvm.waitFor(p, Duration.ofSeconds(120));
        if (!exited) {
            ChildJvm.kill(p, Duration.ofSeconds(10));
        }
        assertTrue(exited && p.exitValue() == 0, "driver failed (exit " + (exited ? p.exitValue() : "timeout")
            + "):\n" + ChildJvm.tail(log, 4000) + "\nserver:\n" + server.logTail(3000));
        Map<String, String> facts = new HashMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            int sp = line.indexOf(' ');
            String key = line.substring(0, sp);
            if (key.equals("config") || key.equals("broker")) {
                int sp2 = line.indexOf(' ', sp + 1);
                key = line.substring(0, sp2);
                sp = sp2;
            }
            facts.put(key, line.substring(sp + 1));
        }
        return facts;
    }

    private static long files(Path partitionDir, String suffix) throws IOException {
        if (!Files.isDirectory(partitionDir)) {
            return -1;
        }
        try (Stream<Path> s = Files.list(partitionDir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(suffix)).count();
        }
    }

    @ParameterizedTest(name = "kafka-clients {0}.x")
    @ValueSource(strings = {"3", "4"})
    void theAdminClientCreatesDescribesAndDeletesTopicsWithTheirConfigs(String major) throws IOException {
        String prefix = "adm" + major;
        try (ServerProcess server = ServerProcess.builder(dir.resolve("server"))
            .override("log.segment.delete.delay.ms", "0")
            .override("log.retention.check.interval.ms", "1000")
            .override("log.preallocate", "false")
            .logFile(dir.resolve("server.log"))
            .start()) {
            Map<String, String> f = run(server, major, prefix, "setup");
            assertTrue(f.get("version").startsWith(major.equals("3") ? "3.9" : "4."), f.get("version"));
            assertEquals("InvalidConfigurationException", f.get("compact"));
            assertEquals("TopicExistsException", f.get("again"));
            assertEquals("InvalidReplicationFactorException", f.get("rf3"));
            assertEquals("ok", f.get("validate"));
            assertEquals("false", f.get("listed-v"), "validate only creates nothing");
            assertEquals("true", f.get("listed-a"));
            assertEquals("3", f.get("partitions"));
            assertEquals("1 1 false", f.get("cluster"), "one node, the controller, a cluster id");
            assertTrue(!f.get("topicid").equals("AAAAAAAAAAAAAAAAAAAAAA") && f.get("topicid").length() == 22,
                "a topic id in Metadata v10+: " + f.get("topicid"));
            assertEquals(f.get("created-id"), f.get("topicid"), "CreateTopics v7 and Metadata report the same id");
            assertEquals("3600000 DYNAMIC_TOPIC_CONFIG 2", f.get("config retention.ms"));
            assertEquals("1024 DYNAMIC_TOPIC_CONFIG 2", f.get("config segment.bytes"));
            assertEquals("604800000 DEFAULT_CONFIG 1", f.get("config segment.ms"));
            assertEquals("delete DEFAULT_CONFIG 1", f.get("config cleanup.policy"));
            assertEquals("1000 STATIC_BROKER_CONFIG true", f.get("broker log.retention.check.interval.ms"));
            assertEquals("UnknownTopicOrPartitionException", f.get("missing"));
            assertEquals("30", f.get("produced"));
            assertEquals("1 9", f.get("producers-p0"), "DescribeProducers: one producer, 10 batches of one record");

            Path topics = server.dataDir().resolve("topics");
            Path p0 = topics.resolve(prefix + "-a-0");
            // 10 batches of ~1 KB in partition 0 with segment.bytes=1024: every batch starts a segment.
            assertTrue(files(p0, ".log") >= 5, "segments in " + p0 + ": " + files(p0, ".log"));
            assertTrue(Files.isDirectory(topics.resolve(prefix + "-a-2")));
            assertEquals(-1, files(topics.resolve(prefix + "-v-0"), ".log"));

            long segmentsBefore = files(p0, ".log");
            Map<String, String> alt = run(server, major, prefix, "alter");
            assertEquals("InvalidConfigurationException", alt.get("alter-compact"));
            assertEquals("UnknownTopicOrPartitionException", alt.get("alter-unknown"));
            assertEquals("1 DYNAMIC_TOPIC_CONFIG", alt.get("config retention.ms"));
            assertEquals("1024 DYNAMIC_TOPIC_CONFIG", alt.get("config segment.bytes"), "SET kept the other override");
            assertEquals("InvalidPartitionsException", alt.get("grow-smaller"));
            assertEquals("5", alt.get("partitions"));
            assertTrue(Files.isDirectory(topics.resolve(prefix + "-a-4")));
            // Retention by the new value: the maintenance thread (every second here) removes every segment but the
            // active one; with the old value (one hour) it had kept them all.
            Await.until(() -> "retention.ms=1 applied to " + p0 + " (had " + segmentsBefore + " segments)",
                Duration.ofSeconds(30), () -> {
                    try {
                        return files(p0, ".log") == 1;
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });

            Map<String, String> d = run(server, major, prefix, "delete");
            assertEquals("false", d.get("listed-after-delete"));
            assertEquals("UnknownTopicOrPartitionException", d.get("delete-again"));
            Await.until("the deleted topic's files are removed", Duration.ofSeconds(20), () -> {
                try (Stream<Path> s = Files.list(topics)) {
                    return s.noneMatch(x -> x.getFileName().toString().startsWith(prefix + "-a-"));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }
}
