package io.idemlog.interop;

import io.idemlog.testkit.FaultConfig;
import io.idemlog.testkit.FaultProxy;
import io.idemlog.testkit.Ports;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Python group consumers of issue 9 (Debian packages python3-confluent-kafka, on librdkafka, and python3-kafka,
 * pure Python): each subscribes with a group.id, reads every record of a 4-partition topic, commits, and a second run
 * of the same group reads exactly the records produced since (resumes from the committed offsets). All client
 * connections go through a counting proxy (the server advertises it): kafka-python must not storm (before group
 * support it had its connection closed ~13 times a second). Skipped with a message where the package is missing
 * unless IDEMLOG_REQUIRE_PYTHON_KAFKA is set (CI sets it).
 */
@Tag("slow")
class GroupConsumersPythonInteropTest {
    private static final int PARTITIONS = 4;
    private static final int PER_PARTITION = 100;
    /** Connections a well-behaved consumer opens in the two runs: bootstrap, broker, coordinator, twice, and slack. */
    private static final int MAX_CONNECTIONS = 20;

    @TempDir
    Path dir;

    private static String python(String module, String debianPackage) throws Exception {
        return ExternalTool.python(module, debianPackage);
    }

    private Path script(String name) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream(name)) {
            Files.copy(in, target);
        }
        return target;
    }

    private void readEverythingThenResume(String python, String script, String topic) throws Exception {
        int serverPort = Ports.freePort();
        // The server advertises the proxy (Metadata and FindCoordinator), so every client connection is counted.
        try (FaultProxy proxy = FaultProxy.start(Ports.loopback(serverPort), FaultConfig.none());
             ServerProcess server = ServerProcess.builder(dir.resolve("data"))
                 .port(serverPort)
                 .override("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port())
                 .override("create.topics", topic + ":" + PARTITIONS)
                 .override("group.initial.rebalance.delay.ms", "0") // one member per group: no need to wait
                 .logFile(dir.resolve("server.log"))
                 .start()) {
            String bootstrap = proxy.bootstrap();
            Path program = script(script);
            Set<String> sent = new TreeSet<>(GroupTestRecords.produce(bootstrap, topic, PARTITIONS, 0,
                PER_PARTITION));
            long before = proxy.connectionsAccepted();
            List<String> first = ExternalTool.run(dir.resolve(topic + "-1.log"), Duration.ofSeconds(120),
                List.of(python, program.toString(), bootstrap, topic, "g-" + topic, String.valueOf(sent.size()), "60"))
                .requireSuccess(script + " (first run)").lines();
            assertEquals(sent.size(), first.size(), "records read by the first run");
            assertEquals(sent, new TreeSet<>(first), "every record, none twice");
            long connections = proxy.connectionsAccepted() - before;

            Set<String> more = new TreeSet<>(GroupTestRecords.produce(bootstrap, topic, PARTITIONS, PER_PARTITION,
                25));
            before = proxy.connectionsAccepted();
            List<String> second = ExternalTool.run(dir.resolve(topic + "-2.log"), Duration.ofSeconds(120),
                List.of(python, program.toString(), bootstrap, topic, "g-" + topic, String.valueOf(more.size()), "60"))
                .requireSuccess(script + " (second run)").lines();
            assertEquals(more, new TreeSet<>(second), "the second run resumes at the committed offsets");
            assertEquals(more.size(), second.size(), "and reads nothing twice");
            connections += proxy.connectionsAccepted() - before;
            Map<String, Long> versions = proxy.requestVersions();
            System.out.println(script + ": " + connections + " connections in two runs; requests by version: "
                + versions);
            assertTrue(versions.keySet().stream().anyMatch(k -> k.startsWith("JOIN_GROUP ")), "joined: " + versions);
            assertTrue(versions.keySet().stream().anyMatch(k -> k.startsWith("OFFSET_COMMIT ")), "committed");
            long seen = connections;
            assertTrue(connections <= MAX_CONNECTIONS, () -> seen + " connections: a reconnect storm; server log:\n"
                + server.logTail(3000));
        }
    }

    @Test
    void confluentKafkaConsumerReadsEverythingAndResumes() throws Exception {
        readEverythingThenResume(python("confluent_kafka", "python3-confluent-kafka"), "group_consumer_confluent.py",
            "pyck");
    }

    @Test
    void kafkaPythonConsumerReadsEverythingResumesAndDoesNotStorm() throws Exception {
        readEverythingThenResume(python("kafka", "python3-kafka"), "group_consumer_kafka_python.py", "pykp");
    }
}
