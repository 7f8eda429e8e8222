package io.idemlog.interop;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * confluent-kafka's AdminClient (Debian's python3-confluent-kafka, on librdkafka) against an idemlog server: create
 * with partitions and a config, compaction and an existing topic refused, configs described with their source,
 * AlterConfigs, CreatePartitions, DeleteTopics; the partition directories checked on the server. Skipped when no
 * python3 has the module, unless IDEMLOG_REQUIRE_PYTHON_KAFKA is set (CI sets it and installs the package).
 */
class ConfluentAdminInteropTest {
    @TempDir
    Path dir;

    private static String python() throws Exception {
        return ExternalTool.python("confluent_kafka", "python3-confluent-kafka");
    }

    @Test
    void confluentKafkasAdminClientManagesTopics() throws Exception {
        String python = python();
        Path script = dir.resolve("admin_confluent.py");
        try (InputStream in = getClass().getResourceAsStream("admin_confluent.py")) {
            Files.copy(in, script);
        }
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("log.segment.delete.delay.ms", "0")
            .override("auto.create.topics.enable", "false")
            .logFile(dir.resolve("server.log"))
            .start()) {
            List<String> out = ExternalTool.run(dir.resolve("admin.log"), Duration.ofSeconds(120),
                List.of(python, script.toString(), server.bootstrap(), "pyadm")).requireSuccess("admin_confluent.py")
                .lines();
            assertEquals(List.of(
                "created pyadm",
                "compact INVALID_CONFIG",
                "again TOPIC_ALREADY_EXISTS",
                "config retention.ms 3600000 1",
                "config segment.ms 604800000 5",
                "altered retention.ms 7200000 1",
                "altered segment.ms 600000 1",
                "partitions 5",
                "deleted pyadm",
                "listed False"), out);
            Path topics = server.dataDir().resolve("topics");
            Await.until("the deleted topic's directories are removed", Duration.ofSeconds(20), () -> {
                try (Stream<Path> s = Files.list(topics)) {
                    return s.noneMatch(x -> x.getFileName().toString().startsWith("pyadm"));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }
}
