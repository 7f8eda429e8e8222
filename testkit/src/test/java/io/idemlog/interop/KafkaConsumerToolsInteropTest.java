package io.idemlog.interop;

import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka 4.x's own command-line tools (as classes, the way ../shared/peer-kafka runs them) against idemlog, issue 9's
 * first acceptance item: kafka-console-consumer without and with --group reads every record of a 4-partition topic;
 * kafka-consumer-groups --list, --describe (with the right lag), --reset-offsets and --delete work.
 */
@Tag("slow")
class KafkaConsumerToolsInteropTest {
    private static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    private static final String CONSUMER_GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    private static final String TOPIC = "tools";
    private static final int PARTITIONS = 4;
    private static final int PER_PARTITION = 250;
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private ExternalTool.Result consoleConsumer(String bootstrap, String log, int max, String... extra)
        throws Exception {
        List<String> args = new ArrayList<>(List.of("--bootstrap-server", bootstrap, "--topic", TOPIC,
            "--from-beginning", "--max-messages", String.valueOf(max), "--timeout-ms", "60000"));
        args.addAll(List.of(extra));
        return ExternalTool.kafkaTool(dir.resolve(log), TOOL_TIMEOUT, CONSOLE_CONSUMER, args.toArray(String[]::new))
            .requireSuccess("kafka-console-consumer " + String.join(" ", extra));
    }

    private ExternalTool.Result consumerGroups(String bootstrap, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", bootstrap));
        all.addAll(List.of(args));
        return ExternalTool.kafkaTool(dir.resolve("consumer-groups.log"), TOOL_TIMEOUT, CONSUMER_GROUPS,
            all.toArray(String[]::new)).requireSuccess("kafka-consumer-groups " + String.join(" ", args));
    }

    /** --describe rows of {@code group}: partition -> [current offset, log end offset, lag] ("-" as -1). */
    private static Map<Integer, long[]> describeRows(String group, List<String> lines) {
        Map<Integer, long[]> rows = new HashMap<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6 && f[0].equals(group) && f[1].equals(TOPIC)) {
                rows.put(Integer.parseInt(f[2]), new long[] {num(f[3]), num(f[4]), num(f[5])});
            }
        }
        return rows;
    }

    private static long num(String s) {
        return s.equals("-") ? -1 : Long.parseLong(s);
    }

    @Test
    void consoleConsumerWithAndWithoutGroupReadsEverythingAndConsumerGroupsManagesTheGroup() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", TOPIC + ":" + PARTITIONS)
            .override("group.initial.rebalance.delay.ms", "0") // one member per group: no need to wait
            .logFile(dir.resolve("server.log"))
            .start()) {
            String bootstrap = server.bootstrap();
            Set<String> sent = new TreeSet<>(GroupTestRecords.produce(bootstrap, TOPIC, PARTITIONS, 0, PER_PARTITION));
            int total = PARTITIONS * PER_PARTITION;

            // Without --group: the tool makes up a group, subscribes, reads from the beginning.
            List<String> anonymous = consoleConsumer(bootstrap, "console-anon.log", total).lines();
            assertEquals(total, anonymous.size(), "records read without --group");
            assertEquals(sent, new TreeSet<>(anonymous), "every record, none twice");

            // With --group: the same, and the group's offsets are committed (auto commit, and on close).
            List<String> grouped = consoleConsumer(bootstrap, "console-g1.log", total, "--group", "g1").lines();
            assertEquals(total, grouped.size(), "records read with --group");
            assertEquals(sent, new TreeSet<>(grouped), "every record, none twice");
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata().get();
                for (int p = 0; p < PARTITIONS; p++) {
                    assertEquals(PER_PARTITION, committed.get(new TopicPartition(TOPIC, p)).offset(),
                        "committed offset of partition " + p + ": " + committed);
                }
            }

            // 100 more records on partition 0: --describe shows lag 100 there, 0 elsewhere.
            GroupTestRecords.produce(bootstrap, TOPIC, 1, PER_PARTITION, 100);
            assertTrue(consumerGroups(bootstrap, "--list").lines().contains("g1"), "--list names g1");
            Map<Integer, long[]> rows = describeRows("g1", consumerGroups(bootstrap, "--describe", "--group", "g1")
                .lines());
            assertEquals(PARTITIONS, rows.size(), "one --describe row per partition");
            assertEquals(List.of((long) PER_PARTITION, (long) PER_PARTITION + 100, 100L), List.of(rows.get(0)[0],
                rows.get(0)[1], rows.get(0)[2]), "partition 0: current, log end, lag");
            for (int p = 1; p < PARTITIONS; p++) {
                assertEquals(0L, rows.get(p)[2], "lag of partition " + p);
            }

            // --reset-offsets --to-earliest --execute: every partition back to 0, lag = everything.
            consumerGroups(bootstrap, "--reset-offsets", "--group", "g1", "--topic", TOPIC, "--to-earliest",
                "--execute");
            Map<Integer, long[]> reset = describeRows("g1", consumerGroups(bootstrap, "--describe", "--group", "g1")
                .lines());
            for (int p = 0; p < PARTITIONS; p++) {
                assertEquals(0L, reset.get(p)[0], "partition " + p + " reset to the earliest offset");
            }
            assertEquals(PER_PARTITION + 100L, reset.get(0)[2], "lag of partition 0 after the reset");
            // The group resumes from the reset position: it reads everything again, the 100 new records too.
            List<String> again = consoleConsumer(bootstrap, "console-g1-again.log", total + 100, "--group", "g1")
                .lines();
            assertEquals(total + 100, new HashSet<>(again).size(), "after the reset, every record again");

            // --delete: the group is gone from --list.
            consumerGroups(bootstrap, "--delete", "--group", "g1");
            assertFalse(consumerGroups(bootstrap, "--list").lines().contains("g1"), "g1 deleted");
        }
    }
}
