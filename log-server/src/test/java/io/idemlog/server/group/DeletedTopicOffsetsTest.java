package io.idemlog.server.group;

import io.idemlog.common.protocol.ErrorCode;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A deleted topic's committed offsets go, durably, in every group (issue 10: "group offsets of the topic removed"):
 * through {@link GroupCoordinator#onTopicsDeleted} at once, and at load for a topic whose deletion was durable in
 * the topic metadata when the server crashed before the coordinator journaled the tombstones. A re-created topic of
 * the same name starts without committed offsets.
 */
class DeletedTopicOffsetsTest {
    private final CachedEpochClock clock = new CachedEpochClock();
    private final MemoryOffsetJournal journal = new MemoryOffsetJournal();
    /** The topics that exist (what the log store says). */
    private final Set<String> topics = new HashSet<>(Set.of("t", "u"));
    private GroupCoordinator c = newCoordinator();

    private GroupCoordinator newCoordinator() {
        return new GroupCoordinator(GroupConfig.defaults(), clock, journal, tp -> topics.contains(tp.topic()),
            new Random(1));
    }

    private void commit(String group, String topic, int partition, long offset) {
        c.commitOffsets(new GroupCoordinator.CommitRequest(group, -1, "", null,
            List.of(new GroupCoordinator.CommitEntry(new TopicPartition(topic, partition), offset, -1, "")), -1, -1),
            errors -> assertEquals(List.of(ErrorCode.NONE), errors));
        journal.sync();
    }

    private Map<String, Long> fetch(String group) {
        Map<String, Long> out = new TreeMap<>();
        c.fetchOffsets(group, null, r -> r.offsets().forEach(o -> out.put(o.tp().toString(), o.offset())));
        return out;
    }

    private void restart() {
        journal.crash();
        c = newCoordinator();
        c.load(journal.load(), journal.loadedGroups());
        journal.sync();
    }

    @Test
    void theCoordinatorDropsADeletedTopicsOffsetsInEveryGroupDurably() {
        commit("g1", "t", 0, 10);
        commit("g1", "u", 0, 11);
        commit("g2", "t", 1, 12);
        topics.remove("t");
        c.onTopicsDeleted(Set.of("t"));
        journal.sync();
        assertEquals(Map.of(new TopicPartition("u", 0).toString(), 11L), fetch("g1"));
        assertEquals(Map.of(), fetch("g2"));
        topics.add("t"); // re-created
        restart();
        assertEquals(Map.of(new TopicPartition("u", 0).toString(), 11L), fetch("g1"));
        assertEquals(Map.of(), fetch("g2"), "the re-created topic inherits nothing");
    }

    @Test
    void aDeletionTheCoordinatorNeverHeardOfIsCaughtUpAtLoad() {
        commit("g1", "t", 0, 10);
        commit("g1", "u", 0, 11);
        topics.remove("t"); // deleted, then a crash before the coordinator ran onTopicsDeleted
        restart();
        assertEquals(Map.of(new TopicPartition("u", 0).toString(), 11L), fetch("g1"));
        topics.add("t"); // re-created after the restart
        restart();
        assertEquals(Map.of(new TopicPartition("u", 0).toString(), 11L), fetch("g1"),
            "the deletion found at load was journaled: the re-created topic inherits nothing");
    }
}
