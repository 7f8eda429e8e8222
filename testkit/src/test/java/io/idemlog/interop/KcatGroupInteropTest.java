package io.idemlog.interop;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * librdkafka's balanced consumer through kcat -G (issue 9): three members of one group over a 4-partition topic
 * together read every record, the group shows three members, their offsets are committed when they stop (SIGTERM:
 * kcat closes the consumer, which commits), and a member started later reads exactly the records produced since.
 * Needs kcat; skipped with a message where it is missing unless IDEMLOG_REQUIRE_KCAT is set (CI sets it).
 */
@Tag("slow")
class KcatGroupInteropTest {
    private static final String TOPIC = "kg";
    private static final String GROUP = "kcat-group";
    private static final int PARTITIONS = 4;
    private static final int PER_PARTITION = 100;

    @TempDir
    Path dir;

    private static Set<String> lines(List<Path> files) {
        Set<String> all = new TreeSet<>();
        for (Path f : files) {
            try {
                // a line being written may be incomplete: only lines ended by a newline count
                String s = Files.readString(f, StandardCharsets.UTF_8);
                int end = s.lastIndexOf('\n');
                if (end >= 0) {
                    all.addAll(s.substring(0, end).lines().toList());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return all;
    }

    private static List<String> member(String kcat, String bootstrap, boolean exitAtEnd) {
        List<String> cmd = new ArrayList<>(List.of(kcat, "-b", bootstrap, "-G", GROUP, TOPIC,
            "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=10000", "-u", "-q", "-f", "%s\\n"));
        if (exitAtEnd) {
            cmd.add("-e");
        }
        return cmd;
    }

    @Test
    void threeKcatMembersReadEverythingCommitAndALaterMemberResumes() throws Exception {
        String kcat = ExternalTool.find("kcat");
        if (kcat == null) {
            assertTrue(System.getenv("IDEMLOG_REQUIRE_KCAT") == null, "kcat is required (IDEMLOG_REQUIRE_KCAT is "
                + "set) but not on the PATH: apt-get install kcat");
            Assumptions.abort("kcat not found on the PATH (apt-get install kcat): librdkafka groups not tested");
        }
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", TOPIC + ":" + PARTITIONS)
            .logFile(dir.resolve("server.log"))
            .start()) {
            String bootstrap = server.bootstrap();
            Set<String> sent = new TreeSet<>(GroupTestRecords.produce(bootstrap, TOPIC, PARTITIONS, 0,
                PER_PARTITION));
            Path log = dir.resolve("kcat.log");
            List<Process> members = new ArrayList<>();
            List<Path> outs = new ArrayList<>();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                for (int i = 0; i < 3; i++) {
                    Path out = dir.resolve("member" + i + ".out");
                    outs.add(out);
                    members.add(ExternalTool.start(out, log, member(kcat, bootstrap, false)));
                }
                Await.until(() -> "the three members to read all " + sent.size() + " records, have "
                    + lines(outs).size() + "; kcat log:\n" + tail(log), Duration.ofSeconds(90),
                    () -> lines(outs).containsAll(sent));
                Await.until("three members in the group", Duration.ofSeconds(60), () -> {
                    try {
                        return admin.describeConsumerGroups(List.of(GROUP)).describedGroups().get(GROUP).get()
                            .members().size() == 3;
                    } catch (Exception e) {
                        return false;
                    }
                });
                assertEquals(sent, lines(outs), "nothing but what was sent");
                for (Process p : members) {
                    p.destroy(); // SIGTERM: kcat closes its consumer, which commits the offsets it stored
                }
                for (Process p : members) {
                    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a kcat member did not exit on SIGTERM");
                }
                Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get();
                for (int p = 0; p < PARTITIONS; p++) {
                    assertEquals(PER_PARTITION, committed.get(new TopicPartition(TOPIC, p)).offset(),
                        "committed offset of partition " + p + ": " + committed);
                }
            } finally {
                for (Process p : members) {
                    p.destroyForcibly();
                }
            }

            // A new member resumes from the committed offsets: exactly the records produced since.
            Set<String> more = new TreeSet<>(GroupTestRecords.produce(bootstrap, TOPIC, PARTITIONS, PER_PARTITION,
                50));
            ExternalTool.Result later = ExternalTool.run(dir.resolve("kcat-later.log"), Duration.ofSeconds(90),
                member(kcat, bootstrap, true)).requireSuccess("kcat -G -e");
            assertEquals(more.size(), later.lines().size(), "records read by the later member");
            assertEquals(more, new TreeSet<>(later.lines()), "exactly the new records");
        }
    }

    private static String tail(Path log) {
        return io.idemlog.testkit.ChildJvm.tail(log, 3000);
    }
}
