package io.idemlog.interop;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ChildJvm;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka 4.x's own command-line tools, run as /work/shared/peer-kafka runs them (the tool classes in a JVM of their
 * own, here on the test class path's Kafka 4.1 jars), against an idemlog server: kafka-topics (TopicCommand)
 * --create with partitions and a config, --describe, --alter --partitions, --delete; kafka-configs (ConfigCommand)
 * --describe and --alter --add-config / --delete-config. The effects are checked on the server's files. Tagged slow:
 * fourteen tool JVMs take about 2.5 minutes on a loaded 2-core machine.
 */
@Tag("slow")
class KafkaToolsAdminTest {
    private static final String TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand";
    private static final String CONFIG_COMMAND = "kafka.admin.ConfigCommand";

    @TempDir
    Path dir;
    private int runs;

    /** Runs a tool to its end; returns its output (stdout and stderr), failing the test on a non-zero exit. */
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

    private static long segments(Path partitionDir) throws IOException {
        try (Stream<Path> s = Files.list(partitionDir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".log")).count();
        }
    }

    @Test
    void kafkaTopicsAndKafkaConfigsManageTopicsOnIdemlog() throws IOException {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("server"))
            .override("log.segment.delete.delay.ms", "0")
            .override("auto.create.topics.enable", "false")
            .logFile(dir.resolve("server.log"))
            .start()) {
            String bs = server.bootstrap();
            Path topics = server.dataDir().resolve("topics");

            String created = tool(TOPIC_COMMAND, "--bootstrap-server", bs, "--create", "--topic", "tools-t",
                "--partitions", "3", "--replication-factor", "1", "--config", "segment.bytes=1048576", "--config",
                "retention.ms=86400000");
            assertTrue(created.contains("Created topic tools-t."), created);
            assertTrue(Files.isDirectory(topics.resolve("tools-t-2")));

            String compact = runExpectingFailure(TOPIC_COMMAND, "--bootstrap-server", bs, "--create", "--topic",
                "tools-c", "--partitions", "1", "--config", "cleanup.policy=compact");
            assertTrue(compact.contains("compaction is not supported"), compact);

            String described = tool(TOPIC_COMMAND, "--bootstrap-server", bs, "--describe", "--topic", "tools-t");
            assertTrue(described.contains("PartitionCount: 3"), described);
            assertTrue(described.contains("segment.bytes=1048576") && described.contains("retention.ms=86400000"),
                described);
            assertFalse(described.contains("TopicId: AAAAAAAAAAAAAAAAAAAAAA"), "a real topic id: " + described);

            tool(TOPIC_COMMAND, "--bootstrap-server", bs, "--alter", "--topic", "tools-t", "--partitions", "5");
            assertTrue(Files.isDirectory(topics.resolve("tools-t-4")));
            assertTrue(tool(TOPIC_COMMAND, "--bootstrap-server", bs, "--describe", "--topic", "tools-t")
                .contains("PartitionCount: 5"));
            assertTrue(tool(TOPIC_COMMAND, "--bootstrap-server", bs, "--list").contains("tools-t"));

            String configs = tool(CONFIG_COMMAND, "--bootstrap-server", bs, "--entity-type", "topics",
                "--entity-name", "tools-t", "--describe");
            assertTrue(configs.contains("segment.bytes=1048576") && configs.contains("DYNAMIC_TOPIC_CONFIG"), configs);
            tool(CONFIG_COMMAND, "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", "tools-t",
                "--alter", "--add-config", "max.message.bytes=2000000", "--delete-config", "retention.ms");
            String after = tool(CONFIG_COMMAND, "--bootstrap-server", bs, "--entity-type", "topics",
                "--entity-name", "tools-t", "--describe");
            assertTrue(after.contains("max.message.bytes=2000000"), after);
            assertFalse(after.contains("retention.ms=86400000"), after);
            String all = tool(CONFIG_COMMAND, "--bootstrap-server", bs, "--entity-type", "topics",
                "--entity-name", "tools-t", "--describe", "--all");
            assertTrue(all.contains("retention.ms=604800000"), "back to the default: " + all);
            String brokerConfigs = tool(CONFIG_COMMAND, "--bootstrap-server", bs, "--entity-type", "brokers",
                "--entity-name", "1", "--describe", "--all");
            assertTrue(brokerConfigs.contains("log.segment.delete.delay.ms=0"), brokerConfigs);

            tool(TOPIC_COMMAND, "--bootstrap-server", bs, "--delete", "--topic", "tools-t");
            Await.until("the deleted topic's directories are removed", Duration.ofSeconds(20), () -> {
                try (Stream<Path> s = Files.list(topics)) {
                    return s.noneMatch(x -> x.getFileName().toString().startsWith("tools-t"));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertFalse(tool(TOPIC_COMMAND, "--bootstrap-server", bs, "--list").contains("tools-t"));
        }
    }

    /** Runs a tool that must fail; returns its output. */
    private String runExpectingFailure(String main, String... args) throws IOException {
        Path log = dir.resolve("tool-" + (runs++) + ".log");
        Process p = ChildJvm.launch(ChildJvm.javaCommand(List.of("-Xmx256m"), System.getProperty("java.class.path"),
            main, List.of(args)), log, main);
        boolean exited = ChildJvm.waitFor(p, Duration.ofSeconds(90));
        if (!exited) {
            ChildJvm.kill(p, Duration.ofSeconds(10));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(exited && p.exitValue() != 0, "expected a failure:\n" + out);
        return out;
    }
}
