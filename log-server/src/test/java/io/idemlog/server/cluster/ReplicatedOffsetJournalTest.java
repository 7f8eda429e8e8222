package io.idemlog.server.cluster;

import io.idemlog.server.group.OffsetJournal;
import io.idemlog.server.group.OffsetRecords;
import io.idemlog.server.group.OffsetValue;
import io.idemlog.server.group.TopicPartition;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster's offsets journal with a hand-driven "Raft group": an answer waits for the entry holding its appends
 * (never before it is committed), one entry per group commit, a failed entry fails every later answer, and the
 * entries replayed in order give back the coordinator's offsets (what the offsets group's replicas apply).
 */
class ReplicatedOffsetJournalTest {
    private final List<byte[]> proposed = new ArrayList<>();
    private final List<CompletableFuture<Object>> commits = new ArrayList<>();
    private final List<Runnable> coordinatorQueue = new ArrayList<>();

    private ReplicatedOffsetJournal journal() {
        return new ReplicatedOffsetJournal(() -> new OffsetsStateMachine.State(new TreeMap<>(), new TreeMap<>()),
            entry -> {
                proposed.add(entry);
                CompletableFuture<Object> f = new CompletableFuture<>();
                commits.add(f);
                return f;
            }, coordinatorQueue::add);
    }

    /** Runs what the completions handed to the coordinator thread. */
    private void runCoordinatorThread() {
        List<Runnable> now = new ArrayList<>(coordinatorQueue);
        coordinatorQueue.clear();
        now.forEach(Runnable::run);
    }

    private static OffsetValue v(long offset) {
        return new OffsetValue(offset, 2, "m" + offset, 1_000 + offset, -1);
    }

    @Test
    void aCommitIsAnsweredOnlyOnceItsEntryIsCommitted() {
        ReplicatedOffsetJournal j = journal();
        j.load();
        j.put("g", new TopicPartition("t", 0), v(5));
        j.put("g", new TopicPartition("t", 1), v(6));
        List<Boolean> answers = new ArrayList<>();
        j.whenDurable(answers::add);
        assertTrue(j.hasPending());
        j.sync();
        assertEquals(1, proposed.size(), "one entry per group commit");
        runCoordinatorThread();
        assertEquals(List.of(), answers, "not answered before the entry is committed");
        commits.get(0).complete("ok");
        assertEquals(List.of(), answers, "the completion runs on the coordinator thread, not Ratis's");
        runCoordinatorThread();
        assertEquals(List.of(true), answers);
    }

    @Test
    void aWaiterWithNothingPendingWaitsForTheNewestEntryInFlight() {
        ReplicatedOffsetJournal j = journal();
        j.load();
        j.put("g", new TopicPartition("t", 0), v(1));
        j.sync();
        j.put("g", new TopicPartition("t", 0), v(2));
        j.sync();
        List<Boolean> fetch = new ArrayList<>();
        j.whenDurable(fetch::add); // an OffsetFetch: nothing pending, two entries in flight
        commits.get(0).complete("ok");
        runCoordinatorThread();
        assertEquals(List.of(), fetch, "the newest entry is not committed yet");
        commits.get(1).complete("ok");
        runCoordinatorThread();
        assertEquals(List.of(true), fetch);
        List<Boolean> idle = new ArrayList<>();
        j.whenDurable(idle::add);
        assertEquals(List.of(true), idle, "nothing in flight: at once");
    }

    @Test
    void aFailedEntryFailsItsAnswersAndEveryLaterOne() {
        ReplicatedOffsetJournal j = journal();
        j.load();
        j.put("g", new TopicPartition("t", 0), v(1));
        List<Boolean> answers = new ArrayList<>();
        j.whenDurable(answers::add);
        j.sync();
        commits.get(0).completeExceptionally(new IllegalStateException("not the leader any more"));
        runCoordinatorThread();
        assertEquals(List.of(false), answers);
        assertTrue(j.failed());
        j.put("g", new TopicPartition("t", 0), v(2));
        j.whenDurable(answers::add);
        j.sync();
        assertEquals(List.of(false, false), answers);
        assertEquals(1, proposed.size(), "a failed journal proposes nothing more");
    }

    @Test
    void closeAnswersFalseToEverythingStillWaiting() {
        ReplicatedOffsetJournal j = journal();
        j.load();
        j.put("g", new TopicPartition("t", 0), v(1));
        List<Boolean> answers = new ArrayList<>();
        j.whenDurable(answers::add);
        j.sync();
        j.put("g", new TopicPartition("t", 0), v(2));
        j.whenDurable(answers::add);
        j.close();
        assertEquals(List.of(false, false), answers);
        commits.get(0).complete("ok"); // committed after all: the answer was already given
        runCoordinatorThread();
        assertEquals(List.of(false, false), answers);
    }

    @Test
    void theEntriesReplayedInOrderGiveTheCoordinatorsOffsets() {
        ReplicatedOffsetJournal j = journal();
        j.load();
        j.put("g", new TopicPartition("t", 0), v(1));
        j.put("h", new TopicPartition("u", 3), v(9));
        j.putGroup("g", new OffsetJournal.GroupRecord("consumer", -1));
        j.sync();
        j.put("g", new TopicPartition("t", 0), v(4));
        j.delete("h", new TopicPartition("u", 3));
        j.putGroup("g", new OffsetJournal.GroupRecord("consumer", 77));
        j.deleteGroup("h");
        j.sync();
        Map<String, Map<TopicPartition, OffsetValue>> offsets = new TreeMap<>();
        Map<String, OffsetJournal.GroupRecord> groups = new TreeMap<>();
        for (byte[] e : proposed) {
            OffsetRecords.applyAll(ByteBuffer.wrap(e), offsets, groups);
        }
        assertEquals(Map.of("g", Map.of(new TopicPartition("t", 0), v(4))), offsets);
        assertEquals(Map.of("g", new OffsetJournal.GroupRecord("consumer", 77)), groups);
    }

    @Test
    void aDamagedEntryIsRefusedWhole() {
        ReplicatedOffsetJournal j = journal();
        j.load();
        j.put("g", new TopicPartition("t", 0), v(1));
        j.put("g", new TopicPartition("t", 1), v(2));
        j.sync();
        byte[] e = proposed.get(0).clone();
        e[e.length - 3] ^= 0x40; // inside the second record's payload: its checksum no longer matches
        Map<String, Map<TopicPartition, OffsetValue>> offsets = new TreeMap<>();
        assertThrows(IllegalArgumentException.class,
            () -> OffsetRecords.applyAll(ByteBuffer.wrap(e), offsets, new TreeMap<>()));
    }
}
