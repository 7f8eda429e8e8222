package io.idemlog.interop;

import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 10's "group offsets of the topic removed", with kafka-clients' AdminClient against a server process: offsets
 * committed for two topics (alterConsumerGroupOffsets), one topic deleted (deleteTopics): OffsetFetch no longer
 * answers its offsets, the other topic's stay; the topic re-created with the same name starts without committed
 * offsets; and so after a SIGKILL and restart of the server.
 */
class DeletedTopicOffsetsInteropTest {
    private static final long TIMEOUT_S = 60;

    @TempDir
    Path dir;

    private static Map<TopicPartition, Long> committed(Admin admin, String group, List<TopicPartition> asked)
        throws Exception {
        Map<TopicPartition, OffsetAndMetadata> got = (asked == null
            ? admin.listConsumerGroupOffsets(group)
            : admin.listConsumerGroupOffsets(Map.of(group, new ListConsumerGroupOffsetsSpec().topicPartitions(asked))))
            .partitionsToOffsetAndMetadata(group).get(TIMEOUT_S, TimeUnit.SECONDS);
        Map<TopicPartition, Long> out = new HashMap<>();
        got.forEach((tp, o) -> {
            if (o != null) {
                out.put(tp, o.offset());
            }
        });
        return out;
    }

    @Test
    void deletingATopicRemovesItsCommittedOffsetsAndARecreatedTopicInheritsNone() throws Exception {
        TopicPartition d0 = new TopicPartition("doomed", 0);
        TopicPartition d1 = new TopicPartition("doomed", 1);
        TopicPartition k0 = new TopicPartition("kept", 0);
        List<TopicPartition> doomed = List.of(d0, d1);
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("log.preallocate", "false")
            .logFile(dir.resolve("server.log"))
            .start()) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic("doomed", 2, (short) 1), new NewTopic("kept", 1, (short) 1)))
                    .all().get(TIMEOUT_S, TimeUnit.SECONDS);
                admin.alterConsumerGroupOffsets("g", Map.of(d0, new OffsetAndMetadata(5), d1,
                    new OffsetAndMetadata(7), k0, new OffsetAndMetadata(3))).all().get(TIMEOUT_S, TimeUnit.SECONDS);
                admin.alterConsumerGroupOffsets("h", Map.of(d1, new OffsetAndMetadata(9)))
                    .all().get(TIMEOUT_S, TimeUnit.SECONDS);
                assertEquals(Map.of(d0, 5L, d1, 7L, k0, 3L), committed(admin, "g", null), "before the deletion");

                admin.deleteTopics(List.of("doomed")).all().get(TIMEOUT_S, TimeUnit.SECONDS);
                assertEquals(Map.of(k0, 3L), committed(admin, "g", null), "the deleted topic's offsets are gone");
                assertEquals(Map.of(), committed(admin, "h", null), "in every group");

                admin.createTopics(List.of(new NewTopic("doomed", 2, (short) 1))).all()
                    .get(TIMEOUT_S, TimeUnit.SECONDS);
                assertEquals(Map.of(), committed(admin, "g", doomed), "the re-created topic inherits no offsets");
            }
            server.kill();
            server.start();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
                assertEquals(Map.of(), committed(admin, "g", doomed), "nor after a SIGKILL and restart");
                assertEquals(Map.of(k0, 3L), committed(admin, "g", null));
                assertEquals(Map.of(), committed(admin, "h", null));
            }
        }
    }
}
