package io.idemlog.server.replication;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.AppendResult;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.Partition;
import io.idemlog.server.state.ProducerEntryVisitor;
import org.apache.ratis.protocol.RaftGroupId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.idemlog.server.replication.ReplicaCluster.append;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replicated partition on three in-process Raft servers (docs/REPLICATION.md section 8): the producer state is
 * replicated by apply, so a retry that reaches a NEW leader is answered DUPLICATE with its original offset; restart
 * from a snapshot + replay and a snapshot install to a follower behind a purged log give identical bytes and
 * producer state.
 */
class ReplicatedPartitionTest {
    private static final String TOPIC = "payments";
    private static final long PRODUCER = 4242;

    @TempDir
    Path dir;
    private ReplicaCluster cluster;
    private final UUID topicId = UUID.randomUUID();

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Starts three nodes with the partition ({@link #cluster} as set up by the test, or a new one). */
    private void startWithPartition(long snapshotEveryEntries) throws Exception {
        if (cluster == null) {
            cluster = new ReplicaCluster(dir);
        }
        cluster.snapshotEveryEntries = snapshotEveryEntries;
        cluster.startAll();
        for (int i = 0; i < 3; i++) {
            cluster.groups[i].ensure(TOPIC, topicId, 0, List.of(1, 2, 3));
        }
    }

    private Partition at(int node) {
        return cluster.groups[node].partition(TOPIC, 0);
    }

    /** Appends batches of {@code PRODUCER} from sequence {@code seq} on the current leader; returns the log end. */
    private long appendBatches(int from, int count, int recordsEach) throws Exception {
        long end = -1;
        for (int b = from; b < from + count; b++) {
            AppendResult r = null;
            int attempt = 0;
            // As a client does: a leadership change under load (an election on a starved machine) answers
            // NOT_LEADER_OR_FOLLOWER or times out; the same batch (same sequence) goes to the leader found next.
            // Only a retry may be a DUPLICATE (the first attempt was committed after all).
            for (; attempt < MAX_ATTEMPTS; attempt++) {
                r = append(at(cluster.leader(TOPIC, 0)),
                    ReplicaCluster.batch(PRODUCER, (short) 0, b * recordsEach, recordsEach, "r" + b));
                if (r.error() != ErrorCode.NOT_LEADER_OR_FOLLOWER && r.error() != ErrorCode.REQUEST_TIMED_OUT) {
                    break; // keeps attempt: > 0 only for a retry
                }
            }
            assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
            assertTrue(!r.duplicate() || (attempt > 0 && (end == -1 || r.baseOffset() == end)),
                "batch " + b + " is new, or a retry answered with its original offset " + r.baseOffset());
            end = r.lastOffset() + 1;
        }
        return end;
    }

    private static final int MAX_ATTEMPTS = 20;

    private static String producers(Partition p) {
        StringBuilder sb = new StringBuilder();
        p.forEachProducer(new ProducerEntryVisitor() {
            @Override
            public void producer(long producerId, short epoch, long lastWriteMs, int batchCount) {
                sb.append('[').append(producerId).append(' ').append(epoch).append(' ').append(lastWriteMs)
                    .append(' ').append(batchCount).append(']');
            }

            @Override
            public void batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
                sb.append('(').append(firstSequence).append(',').append(lastOffsetDelta).append(',')
                    .append(firstOffset).append(')');
            }
        });
        return sb.toString();
    }

    /** {@code batch} appended at {@code end} through {@code leader}, applied on every replica; then that node stops. */
    private AppendResult appendThenStopTheLeader(int leader, byte[] batch, long end) throws Exception {
        AppendResult first = append(at(leader), batch);
        assertEquals(ErrorCode.NONE, first.error(), first.errorMessage());
        assertEquals(end, first.baseOffset());
        cluster.awaitApplied(TOPIC, 0, first.lastOffset() + 1);
        cluster.stop(leader);
        return first;
    }

    @Test
    void aRetryOfACommittedBatchSentToTheNewLeaderIsADuplicateWithItsOriginalOffset() throws Exception {
        startWithPartition(1_000_000);
        int oldLeader = cluster.leader(TOPIC, 0);
        long end = appendBatches(0, 10, 4);
        byte[] last = ReplicaCluster.batch(PRODUCER, (short) 0, 40, 4, "last");
        // The answer is lost (the client never saw it); the leader dies.
        AppendResult first = appendThenStopTheLeader(oldLeader, last, end);
        end = first.lastOffset() + 1;
        int newLeader = -1;
        AppendResult retry = null;
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            // as a client does: an election on a starved machine may move the leadership again meanwhile
            newLeader = cluster.leader(TOPIC, 0);
            retry = append(at(newLeader), last);
            if (retry.error() != ErrorCode.NOT_LEADER_OR_FOLLOWER && retry.error() != ErrorCode.REQUEST_TIMED_OUT) {
                break;
            }
        }
        assertNotEquals(oldLeader, newLeader);
        assertEquals(ErrorCode.NONE, retry.error(), retry.errorMessage());
        assertTrue(retry.duplicate(), "the new leader, which never saw the first attempt, knows it was committed");
        assertEquals(first.baseOffset(), retry.baseOffset(), "answered with the original offset");
        assertEquals(first.lastOffset(), retry.lastOffset());
        assertEquals(end, at(newLeader).logEndOffset(), "nothing appended twice");
        // A new batch goes on at the right place, with the new term as its leader epoch.
        AppendResult next = append(at(newLeader), ReplicaCluster.batch(PRODUCER, (short) 0, 44, 4, "next"));
        assertEquals(end, next.baseOffset());

        // Control: the same fault without idempotence (no producer state to consult) stores the retry again.
        byte[] plain = ReplicaCluster.batch(-1, (short) -1, -1, 4, "plain");
        AppendResult p1 = append(at(newLeader), plain);
        AppendResult p2 = append(at(newLeader), plain);
        assertEquals(ErrorCode.NONE, p2.error());
        assertFalse(p2.duplicate());
        assertEquals(p1.lastOffset() + 1, p2.baseOffset(), "without idempotence the retry is a second copy");
    }

    /**
     * KAFKA-9199 as ClusterStopTest met it: a batch committed through the old leader whose answer never came, then
     * more than 5 later batches of the same producer through the new leader (kafka-clients sends them while the first
     * is still in flight to the old one), then the retry of the first: older than the retained window, yet found in
     * the log on the new leader and answered as a duplicate with its original offsets, identically on every replica.
     */
    @Test
    void aRetryOlderThanTheRetainedWindowIsADuplicateFromTheLogOnTheNewLeader() throws Exception {
        startWithPartition(1_000_000);
        int oldLeader = cluster.leader(TOPIC, 0);
        long end = appendBatches(0, 3, 4);
        byte[] lost = ReplicaCluster.batch(PRODUCER, (short) 0, 12, 4, "answer lost");
        AppendResult first = appendThenStopTheLeader(oldLeader, lost, end);
        long after = appendBatches(4, 7, 4); // seven later batches on the new leader: the first is out of the window
        int newLeader = cluster.leader(TOPIC, 0);
        assertNotEquals(oldLeader, newLeader);
        AppendResult retry = null;
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            retry = append(at(cluster.leader(TOPIC, 0)), lost);
            if (retry.error() != ErrorCode.NOT_LEADER_OR_FOLLOWER && retry.error() != ErrorCode.REQUEST_TIMED_OUT) {
                break;
            }
        }
        assertEquals(ErrorCode.NONE, retry.error(), retry.errorMessage());
        assertTrue(retry.duplicate(), "a retry older than the 5 retained batches, found in the log");
        assertEquals(first.baseOffset(), retry.baseOffset(), "answered with the original offsets");
        assertEquals(first.lastOffset(), retry.lastOffset());
        assertEquals(after, at(cluster.leader(TOPIC, 0)).logEndOffset(), "nothing appended twice");
        // a batch of this producer that was never appended, as old, stays OUT_OF_ORDER
        AppendResult never = append(at(cluster.leader(TOPIC, 0)),
            ReplicaCluster.batch(PRODUCER, (short) 0, 13, 2, "never sent before"));
        assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, never.error());
    }

    /** The current leader's replica (waits for one). */
    private ReplicatedPartition leaderReplica() {
        return (ReplicatedPartition) at(cluster.leader(TOPIC, 0));
    }

    @Test
    void aStoppedFollowerLeavesTheInSyncSetAfterTheLagBoundAndMinInsyncThenRefuses() throws Exception {
        startWithPartition(1_000_000);
        for (PartitionGroups g : cluster.groups) {
            g.setReplicaLagTimeMaxMs(1_500);
            g.setMinInsync(d -> 3);
        }
        appendBatches(0, 3, 2);
        ReplicaCluster.await(() -> leaderReplica().inSyncReplicas() == 3, "three replicas in sync");
        assertEquals(null, leaderReplica().notEnoughReplicas(), "3 in sync, min.insync.replicas=3");
        int leader = cluster.leader(TOPIC, 0);
        int stopped = (leader + 1) % 3;
        cluster.stop(stopped);
        // the stopped follower is out of sync once it has not answered for the lag bound (on whichever node leads)
        ReplicaCluster.await(() -> leaderReplica().inSyncReplicas() == 2, "two replicas in sync");
        String refusal = leaderReplica().notEnoughReplicas();
        assertTrue(refusal != null && refusal.contains("are 2, fewer than its min.insync.replicas=3"), refusal);
        // control: min.insync.replicas=2 accepts, and the majority still commits
        for (PartitionGroups g : cluster.groups) {
            if (g != null) {
                g.setMinInsync(d -> 2);
            }
        }
        assertEquals(null, leaderReplica().notEnoughReplicas());
        appendBatches(3, 1, 2);
        // the follower back: in sync again, min.insync.replicas=3 accepts again
        cluster.start(stopped);
        cluster.groups[stopped].setReplicaLagTimeMaxMs(1_500);
        cluster.groups[stopped].setMinInsync(d -> 3);
        for (PartitionGroups g : cluster.groups) {
            g.setMinInsync(d -> 3);
        }
        ReplicaCluster.await(() -> leaderReplica().notEnoughReplicas() == null, "three replicas in sync again");
    }

    @Test
    void anAcknowledgedBatchIsBelowTheLeadersHighWatermarkWhenTheAnswerComes() throws Exception {
        // Kafka's contract: once acks=all answers, a consumer (Fetch, ListOffsets latest) on the leader sees the batch
        startWithPartition(1_000_000);
        int behind = 0;
        int attempts = 0;
        for (int b = 0; b < 60 && attempts++ < 600; b++) {
            ReplicatedPartition leader = leaderReplica();
            AppendResult r = append(leader, ReplicaCluster.batch(PRODUCER, (short) 0, b * 2, 2, "hw" + b));
            if (r.error() == ErrorCode.NOT_LEADER_OR_FOLLOWER || r.error() == ErrorCode.REQUEST_TIMED_OUT) {
                b--; // an election on a loaded machine: the same batch again (a retry may be a DUPLICATE)
                continue;
            }
            assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
            if (leader.highWatermark() <= r.lastOffset()) {
                behind++;
            }
        }
        assertTrue(attempts <= 600, "too many elections to append 60 batches");
        assertEquals(0, behind, "answers that came before the leader's high watermark covered their batch");
    }

    @Test
    void theHighWatermarkListenerIsToldWithThePartitionTheHandlersKnow() throws Exception {
        // the broker's long-polling fetches park on the partition object the handlers hold (ReplicatedPartition)
        startWithPartition(1_000_000);
        java.util.Map<Partition, Long> told = new java.util.concurrent.ConcurrentHashMap<>();
        for (PartitionGroups g : cluster.groups) {
            g.setHighWatermarkListener((p, hw) -> told.merge(p, hw, Math::max));
        }
        long end = appendBatches(0, 3, 2);
        cluster.awaitApplied(TOPIC, 0, end);
        for (int i = 0; i < 3; i++) {
            Partition p = at(i);
            ReplicaCluster.await(() -> told.getOrDefault(p, -1L) >= end, "node " + (i + 1) + "'s replica told of "
                + end + " (told: " + told + ")");
        }
    }

    @Test
    void aRestartFromItsOwnSnapshotPlusReplayEqualsTheStateBefore() throws Exception {
        startWithPartition(8);
        long end = appendBatches(0, 30, 3);
        cluster.awaitApplied(TOPIC, 0, end);
        int node = (cluster.leader(TOPIC, 0) + 1) % 3; // a follower
        Path sm = ((ReplicatedPartition) at(node)).stateMachine().log().dir();
        ReplicaCluster.await(() -> manifests(sm) > 0, "a snapshot manifest on node " + (node + 1));
        String bytes = cluster.digest(node, TOPIC, 0);
        String state = producers(at(node));
        cluster.stop(node);
        cluster.start(node);
        cluster.awaitApplied(TOPIC, 0, end);
        assertEquals(bytes, cluster.digest(node, TOPIC, 0), "segment bytes after snapshot + replay");
        assertEquals(state, producers(at(node)), "producer state after snapshot + replay");
        assertEquals(0, ((ReplicatedPartition) at(node)).stateMachine().installs());
    }

    @Test
    void aFollowerBehindAPurgedLogCatchesUpBySnapshotInstallWithIdenticalBytesAndProducerState() throws Exception {
        startWithPartition(8);
        long end = appendBatches(0, 5, 20);
        cluster.awaitApplied(TOPIC, 0, end);
        int leader = cluster.leader(TOPIC, 0);
        int lagging = (leader + 1) % 3;
        cluster.stop(lagging);
        end = appendBatches(5, 60, 20); // several snapshots, the Raft log purged past what the stopped node has
        int nowLeader = cluster.leader(TOPIC, 0);
        ReplicaCluster.await(() -> firstRaftIndex(nowLeader) > 20, "the leader's Raft log purged");
        cluster.start(lagging);
        cluster.awaitApplied(TOPIC, 0, end);
        ReplicatedPartition caughtUp = (ReplicatedPartition) at(lagging);
        assertTrue(caughtUp.stateMachine().installs() > 0, "caught up by a snapshot install");
        String expected = cluster.digest(nowLeader, TOPIC, 0);
        for (int i = 0; i < 3; i++) {
            assertEquals(expected, cluster.digest(i, TOPIC, 0), "node " + (i + 1) + "'s bytes");
            assertEquals(producers(at(nowLeader)), producers(at(i)), "node " + (i + 1) + "'s producer state");
        }
    }

    /**
     * A follower stopped while the leader takes a snapshot a few entries later (fewer entries behind than the log
     * keeps below a snapshot: raft.server.log.purge.preservation.log.num, a snapshot interval in
     * MetadataQuorum.properties, 16 here) catches up from the leader's Raft log, not by a snapshot install. An install ships every segment file, and in Ratis 3.3.0
     * one that overlaps AppendEntries in flight to the same follower stopped its log worker for good
     * (ClusterFailoverTest, 2026-12-07). Control: without the kept entries the same follower needs an install.
     */
    @Test
    void aFollowerFewerEntriesBehindThanTheLogKeepsCatchesUpByLogAfterTheLeadersSnapshot() throws Exception {
        assertEquals(0, followerBehindTheLeadersSnapshot(16), "caught up by log, no install");
    }

    @Test
    void controlWithoutKeptEntriesTheSameFollowerNeedsASnapshotInstall() throws Exception {
        assertTrue(followerBehindTheLeadersSnapshot(0) > 0, "without kept entries: an install");
    }

    /** Returns the lagging follower's snapshot installs once it caught up (purgePreservation as in ReplicaCluster). */
    private int followerBehindTheLeadersSnapshot(long purgePreservation) throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.purgePreservation = purgePreservation;
        startWithPartition(8);
        // ~5 KB per batch: one entry per 8 KB Raft log segment, so a purge removes exactly the entries below it
        int perBatch = 400;
        long end = appendBatches(0, 3, perBatch);
        cluster.awaitApplied(TOPIC, 0, end);
        int lagging = (cluster.leader(TOPIC, 0) + 1) % 3;
        RaftGroupId gid = PartitionGroups.groupId(topicId, 0);
        long stoppedAt = cluster.quorums[lagging].server().getDivision(gid).getRaftLog().getLastEntryTermIndex()
            .getIndex();
        cluster.stop(lagging);
        int b = 3;
        // one batch at a time until the leader has a snapshot past what the stopped follower has (at most a
        // snapshot interval of entries later)
        for (; b < 3 + 20; b++) {
            end = appendBatches(b, 1, perBatch);
            int leader = cluster.leader(TOPIC, 0);
            org.apache.ratis.statemachine.SnapshotInfo snap = cluster.quorums[leader].server().getDivision(gid)
                .getStateMachine().getLatestSnapshot();
            if (snap != null && snap.getIndex() > stoppedAt) {
                break;
            }
        }
        int leader = cluster.leader(TOPIC, 0);
        long last = cluster.quorums[leader].server().getDivision(gid).getRaftLog().getLastEntryTermIndex().getIndex();
        assertTrue(last - stoppedAt < 16, "the follower is fewer than 16 entries behind: " + stoppedAt + " vs " + last);
        cluster.start(lagging);
        cluster.awaitApplied(TOPIC, 0, end);
        assertEquals(cluster.digest(leader, TOPIC, 0), cluster.digest(lagging, TOPIC, 0));
        return ((ReplicatedPartition) at(lagging)).stateMachine().installs();
    }

    private long firstRaftIndex(int node) {
        try {
            return cluster.quorums[node].server().getDivision(PartitionGroups.groupId(topicId, 0)).getRaftLog()
                .getStartIndex();
        } catch (Exception e) {
            return -1;
        }
    }

    private static long manifests(Path sm) {
        try (Stream<Path> files = Files.list(sm)) {
            return files.filter(p -> p.getFileName().toString().startsWith(SnapshotManifestFile.PREFIX)).count();
        } catch (Exception e) {
            return 0;
        }
    }

    @Test
    void tickEntriesExpireIdleProducersOnEveryReplicaAtTheLeadersTime() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.logConfig = ReplicaCluster.with(cluster.logConfig, "producerIdExpirationMs", 1_000L);
        cluster.tickIntervalMs = 100;
        cluster.startAll();
        for (int i = 0; i < 3; i++) {
            cluster.groups[i].ensure(TOPIC, topicId, 0, List.of(1, 2, 3));
        }
        long end = appendBatches(0, 3, 2);
        cluster.awaitApplied(TOPIC, 0, end);
        for (int i = 0; i < 3; i++) {
            assertEquals(1, at(i).producerCount(), "node " + (i + 1) + " keeps the producer");
        }
        ReplicaCluster.await(() -> at(0).producerCount() == 0 && at(1).producerCount() == 0
            && at(2).producerCount() == 0, "the idle producer expired on every replica by tick entries");
        // The expired producer is new again (an unknown producer is accepted at any sequence, as in Kafka), the
        // same on every replica.
        AppendResult r = append(at(cluster.leader(TOPIC, 0)), ReplicaCluster.batch(PRODUCER, (short) 0, 6, 2, "late"));
        assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
        assertFalse(r.duplicate());
        cluster.awaitApplied(TOPIC, 0, r.lastOffset() + 1);
        for (int i = 0; i < 3; i++) {
            assertEquals(producers(at(0)), producers(at(i)), "node " + (i + 1) + "'s producer state");
            assertEquals(cluster.digest(0, TOPIC, 0), cluster.digest(i, TOPIC, 0));
        }
    }

    @Test
    void aTornTailBeyondTheSnapshotIsCutAndReplayedAndDamageInsideItRefusesTheReplica() throws Exception {
        startWithPartition(8);
        long end = appendBatches(0, 30, 3);
        cluster.awaitApplied(TOPIC, 0, end);
        int node = (cluster.leader(TOPIC, 0) + 1) % 3;
        Path sm = ((ReplicatedPartition) at(node)).stateMachine().log().dir();
        ReplicaCluster.await(() -> manifests(sm) > 0, "a snapshot manifest");
        String bytes = cluster.digest(node, TOPIC, 0);
        cluster.stop(node);
        Path segment;
        try (Stream<Path> files = Files.list(sm)) {
            segment = files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().reduce((a, b) -> b)
                .orElseThrow();
        }
        // What a crash in the middle of a write leaves: garbage after the last batch.
        byte[] garbage = new byte[333];
        new java.util.Random(3).nextBytes(garbage);
        Files.write(segment, garbage, java.nio.file.StandardOpenOption.APPEND);
        cluster.start(node);
        cluster.awaitApplied(TOPIC, 0, end);
        assertEquals(bytes, cluster.digest(node, TOPIC, 0), "cut to the snapshot, the rest replayed: same bytes");

        // Damage inside what the snapshot covers: the replica must not serve (nor apply at wrong offsets).
        SnapshotManifestFile m = SnapshotManifestFile.newest(sm);
        cluster.stop(node);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(
            sm.resolve(String.format("%020d.log", m.manifest().bases()[0])), java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), 70); // inside the first batch
        }
        boolean refused;
        try {
            cluster.start(node);
            refused = cluster.groups[node].partition(TOPIC, 0) == null
                || at(node).role() == io.idemlog.server.log.PartitionRole.OFFLINE;
        } catch (java.io.IOException | RuntimeException e) {
            refused = true;
        }
        assertTrue(refused, "a replica damaged inside its snapshot does not come up");
        // The other two still serve.
        AppendResult r = append(at(cluster.leader(TOPIC, 0)), ReplicaCluster.batch(PRODUCER, (short) 0, 90, 3, "x"));
        assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
    }

    // ------------------------------------------------------------------------------ log start: DeleteRecords, retention

    private static List<Long> segmentBases(Partition p) throws Exception {
        Path sm = ((ReplicatedPartition) p).stateMachine().log().dir();
        try (Stream<Path> files = Files.list(sm)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".log"))
                .map(n -> Long.parseLong(n.substring(0, n.length() - 4))).sorted().toList();
        }
    }

    private String sizes(int node) throws Exception {
        Path sm = ((ReplicatedPartition) at(node)).stateMachine().log().dir();
        try (Stream<Path> files = Files.list(sm)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted()
                .map(f -> f.getFileName() + "=" + f.toFile().length()).toList().toString();
        }
    }

    private long deleteRecords(int node, long offset) throws Exception {
        try {
            return ((ReplicatedPartition) at(node)).moveLogStartAsync(offset).get(ReplicaCluster.TIMEOUT_MS,
                TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /**
     * Every running replica at log start offset {@code expected} with the segments entirely below it removed (apply
     * moves the start first, then snapshots, then removes them).
     */
    private void awaitLogStart(long expected) {
        ReplicaCluster.await(() -> {
            for (int i : cluster.running()) {
                Partition p = at(i);
                if (p == null || p.logStartOffset() != expected) {
                    return false;
                }
                try {
                    List<Long> bases = segmentBases(p);
                    if (bases.size() > 1 && bases.get(1) <= expected) {
                        return false;
                    }
                } catch (Exception e) {
                    return false;
                }
            }
            return true;
        }, "log start offset " + expected + " on every running replica, the segments below it removed");
    }

    @Test
    void deleteRecordsMovesTheLogStartOnEveryReplicaRemovesTheSameSegmentsAndSurvivesARestart() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.logConfig = ReplicaCluster.with(cluster.logConfig, "segmentBytes", 1024L);
        cluster.snapshotOnStop = false; // the restart below starts from the snapshots apply wrote, as after a crash
        startWithPartition(16); // snapshots every 16 entries: one older than the log start entry names removed segments
        long end = appendBatches(0, 40, 5); // about 120 bytes a batch: a segment every 8 batches
        cluster.awaitApplied(TOPIC, 0, end);
        int leader = cluster.leader(TOPIC, 0);
        List<Long> before = segmentBases(at(leader));
        assertTrue(before.size() > 3, "several segments: " + before);
        long target = 97; // inside a segment: the segments entirely below go, the one holding 97 stays
        assertEquals(target, deleteRecords(leader, target));
        awaitLogStart(target);
        String digest = cluster.digest(leader, TOPIC, 0);
        List<Long> kept = segmentBases(at(leader));
        assertTrue(kept.get(0) > 0 && kept.get(0) <= target && (kept.size() == 1 || kept.get(1) > target),
            "the segment holding " + target + " is the first one: " + kept + " (before " + before + ")");
        for (int i = 0; i < 3; i++) {
            assertEquals(kept, segmentBases(at(i)), "node " + (i + 1) + "'s segments");
            assertEquals(digest, cluster.digest(i, TOPIC, 0), "node " + (i + 1) + "'s bytes");
        }
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, at(leader).read(target - 1, 1 << 20).error());
        assertEquals(ErrorCode.NONE, at(leader).read(target, 1 << 20).error());

        // At or below the start: nothing proposed, the current start answered; above the high watermark: refused.
        assertEquals(target, deleteRecords(leader, 5));
        io.idemlog.server.metadata.AdminException above = org.junit.jupiter.api.Assertions.assertThrows(
            io.idemlog.server.metadata.AdminException.class, () -> deleteRecords(leader, end + 1));
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, above.error());
        int follower = (leader + 1) % 3;
        io.idemlog.server.metadata.AdminException notLeader = org.junit.jupiter.api.Assertions.assertThrows(
            io.idemlog.server.metadata.AdminException.class, () -> deleteRecords(follower, 150));
        assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, notLeader.error());

        // A restart of a follower: the snapshot written with the log start entry holds it (the segments the older
        // snapshot named are gone), nothing comes back.
        cluster.stop(follower);
        cluster.start(follower);
        cluster.awaitApplied(TOPIC, 0, end);
        awaitLogStart(target);
        assertEquals(kept, segmentBases(at(follower)));
        assertEquals(digest, cluster.digest(follower, TOPIC, 0));

        // -1: the high watermark (the whole log); the leader's active segment stays, empty below the start.
        long newEnd = appendBatches(40, 5, 5);
        cluster.awaitApplied(TOPIC, 0, newEnd);
        int nowLeader = cluster.leader(TOPIC, 0);
        assertEquals(newEnd, deleteRecords(nowLeader, -1L));
        awaitLogStart(newEnd);
        for (int i = 0; i < 3; i++) {
            assertEquals(1, segmentBases(at(i)).size(), "node " + (i + 1) + " keeps only its active segment");
        }
        long after = appendBatches(45, 2, 5);
        cluster.awaitApplied(TOPIC, 0, after);
        assertEquals(newEnd, at(cluster.leader(TOPIC, 0)).logStartOffset());
    }

    @Test
    void aFollowerThatMissedADeleteRecordsGetsTheLogStartFromTheLeadersSnapshot() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.logConfig = ReplicaCluster.with(cluster.logConfig, "segmentBytes", 1024L);
        startWithPartition(8);
        long end = appendBatches(0, 10, 5);
        cluster.awaitApplied(TOPIC, 0, end);
        int lagging = (cluster.leader(TOPIC, 0) + 1) % 3;
        cluster.stop(lagging);
        end = appendBatches(10, 40, 5);
        int leader = cluster.leader(TOPIC, 0);
        long target = 123;
        assertEquals(target, deleteRecords(leader, target));
        end = appendBatches(50, 30, 5); // more snapshots: the Raft log purged past the stopped node and the entry
        int nowLeader = cluster.leader(TOPIC, 0);
        ReplicaCluster.await(() -> firstRaftIndex(nowLeader) > 60, "the leader's Raft log purged");
        cluster.start(lagging);
        cluster.awaitApplied(TOPIC, 0, end);
        awaitLogStart(target);
        assertTrue(((ReplicatedPartition) at(lagging)).stateMachine().installs() > 0, "caught up by an install");
        assertEquals(cluster.digest(nowLeader, TOPIC, 0), cluster.digest(lagging, TOPIC, 0));
        assertEquals(segmentBases(at(nowLeader)), segmentBases(at(lagging)), sizes(nowLeader) + " / " + sizes(lagging));
        assertEquals(producers(at(nowLeader)), producers(at(lagging)));
    }

    @Test
    void retentionIsTheLeadersDecisionAppliedAtTheSamePointOnEveryReplica() throws Exception {
        cluster = new ReplicaCluster(dir);
        LogConfig c = ReplicaCluster.with(cluster.logConfig, "segmentBytes", 1024L);
        c = ReplicaCluster.with(c, "retentionBytes", 4096L);
        c = ReplicaCluster.with(c, "retentionCheckIntervalMs", 100L);
        // the batches' timestamps are of 2023: retention.ms would delete all but the active segment; bytes only here
        c = ReplicaCluster.with(c, "retentionMs", -1L);
        cluster.logConfig = c;
        startWithPartition(1_000_000);
        long end = appendBatches(0, 60, 5);
        cluster.awaitApplied(TOPIC, 0, end);
        // Settled: the leader sees nothing more to retain (retention can move the start in several steps, as the
        // high watermark of each check allows) and every replica holds the same segments from the same start.
        ReplicaCluster.await(() -> {
            int l = cluster.leader(TOPIC, 0);
            long start = at(l).logStartOffset();
            if (start == 0 || ((ReplicatedPartition) at(l)).stateMachine().log()
                .retentionTarget(System.currentTimeMillis(), cluster.logConfig.retentionMs(),
                cluster.logConfig.retentionBytes()) >= 0) {
                return false;
            }
            try {
                List<Long> bases = segmentBases(at(l));
                if (bases.isEmpty() || bases.get(0) != start) {
                    return false; // a segment below the start whose seal was pending at the entry: swept later
                }
                for (int i = 0; i < 3; i++) {
                    if (at(i).logStartOffset() != start || at(i).sizeInBytes() > 4096 + 1024 + 400
                        || !bases.equals(segmentBases(at(i)))) {
                        return false;
                    }
                }
                return true;
            } catch (Exception e) {
                return false; // a segment renamed for deletion while listed
            }
        }, "retention.bytes 4096 on every replica, at the same log start offset");
        int leader = cluster.leader(TOPIC, 0);
        List<Long> kept = segmentBases(at(leader));
        assertEquals(at(leader).logStartOffset(), (long) kept.get(0), "retention moves the start to a segment base");
        for (int i = 0; i < 3; i++) {
            assertEquals(kept, segmentBases(at(i)), "node " + (i + 1) + "'s segments");
            final int node = i;
            assertEquals(cluster.digest(leader, TOPIC, 0), cluster.digest(i, TOPIC, 0), () -> {
                try {
                    return "node " + (node + 1) + " vs leader " + (leader + 1) + ": " + segmentDigests(node) + " vs "
                        + segmentDigests(leader);
                } catch (Exception e) {
                    return e.toString();
                }
            });
        }
    }

    /** Per segment file of a replica: its name, size and a digest prefix of its bytes (failure messages). */
    private String segmentDigests(int node) throws Exception {
        Path sm = ((ReplicatedPartition) at(node)).stateMachine().log().dir();
        try (Stream<Path> files = Files.list(sm)) {
            List<Path> logs = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
            StringBuilder out = new StringBuilder("[log " + ((ReplicatedPartition) at(node)).stateMachine().log()
                .segmentSummary() + "; files ");
            for (Path f : logs) {
                byte[] b = Files.readAllBytes(f);
                String d = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b)).substring(0, 8);
                out.append(f.getFileName()).append('=').append(b.length).append(':').append(d).append(' ');
            }
            return out.append(']').toString();
        }
    }

    /**
     * The segments of a replica are fsync'd only at snapshots (the Raft log is the durable copy): what a power loss
     * can leave is a segment cut anywhere after its snapshot's size. Such a replica comes back with the same bytes and
     * producer state (the cut to the snapshot, then Ratis replays the entries after it), and acknowledged batches
     * were never only in its segment.
     */
    @Test
    void aReplicaThatLostItsUnsyncedSegmentTailComesBackIdentical() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.snapshotOnStop = false; // a stop as after a crash: no snapshot, the tail beyond the last one at risk
        startWithPartition(8);
        long end = appendBatches(0, 30, 3);
        cluster.awaitApplied(TOPIC, 0, end);
        int node = (cluster.leader(TOPIC, 0) + 1) % 3;
        Path sm = ((ReplicatedPartition) at(node)).stateMachine().log().dir();
        ReplicaCluster.await(() -> manifests(sm) > 0, "a snapshot manifest");
        String bytes = cluster.digest(node, TOPIC, 0);
        String state = producers(at(node));
        cluster.stop(node);
        SnapshotManifestFile m = SnapshotManifestFile.newest(sm);
        int last = m.manifest().bases().length - 1;
        Path segment = sm.resolve(String.format("%020d.log", m.manifest().bases()[last]));
        long size = m.manifest().sizes()[last];
        assertTrue(Files.size(segment) > size, "the segment holds more than its snapshot: " + Files.size(segment)
            + " > " + size);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(segment,
            java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(size + (Files.size(segment) - size) / 3); // cut somewhere after the snapshot, mid-batch
        }
        cluster.start(node);
        cluster.awaitApplied(TOPIC, 0, end);
        assertEquals(bytes, cluster.digest(node, TOPIC, 0), "the lost tail replayed from the Raft log");
        assertEquals(state, producers(at(node)), "producer state after the lost tail");
        long more = appendBatches(30, 3, 3);
        cluster.awaitApplied(TOPIC, 0, more);
        for (int i = 0; i < 3; i++) {
            assertEquals(cluster.digest(cluster.leader(TOPIC, 0), TOPIC, 0), cluster.digest(i, TOPIC, 0));
        }
    }

    private LogConfig configOf(int node) {
        return ((ReplicatedPartition) at(node)).stateMachine().log().config();
    }

    /**
     * Topic settings that apply decides with are a config entry of the group (docs/REPLICATION.md 4.8): a change of
     * segment.bytes rolls every replica at the same offset, whatever each node's own log.segment.bytes; a restarted
     * replica comes back with it (its snapshot manifest records it); a proposal read from older metadata than the
     * setting in force is not made. Before, replicas took segment.bytes from their own server settings and cluster
     * mode refused it as a topic config.
     */
    @Test
    void aTopicSettingChangeAppliesAtTheSamePointOnEveryReplicaWhateverEachNodesOwnSettings() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.nodeLogConfigs[1] = ReplicaCluster.with(cluster.logConfig, "segmentBytes", 2048L);
        cluster.nodeLogConfigs[2] = ReplicaCluster.with(cluster.logConfig, "segmentBytes", 4096L);
        LogConfig large = ReplicaCluster.with(cluster.logConfig, "segmentBytes", 1L << 20);
        java.util.concurrent.atomic.AtomicReference<LogConfig> topic =
            new java.util.concurrent.atomic.AtomicReference<>(large);
        cluster.topicConfigs = d -> topic.get();
        cluster.metadataIndex = 1;
        startWithPartition(1_000_000);
        long end = appendBatches(0, 10, 5);
        cluster.awaitApplied(TOPIC, 0, end);
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of(0L), segmentBases(at(i)), "node " + (i + 1) + ": the topic's 1 MiB, not its own");
            assertEquals(1L << 20, configOf(i).segmentBytes());
        }

        topic.set(ReplicaCluster.with(large, "segmentBytes", 1024L));
        cluster.metadataIndex = 2;
        int leader = cluster.leader(TOPIC, 0);
        cluster.groups[leader].configure(TOPIC, 0);
        ReplicaCluster.await(() -> {
            for (int i = 0; i < 3; i++) {
                if (configOf(i).segmentBytes() != 1024L) {
                    return false;
                }
            }
            return true;
        }, "segment.bytes 1024 applied on every replica");
        long more = appendBatches(10, 20, 5);
        cluster.awaitApplied(TOPIC, 0, more);
        List<Long> bases = segmentBases(at(leader));
        assertTrue(bases.size() > 3, "rolled at 1 KiB after the change: " + bases);
        assertEquals(0L, (long) bases.get(0));
        assertTrue(bases.get(1) >= end, "nothing before the change rolled: " + bases);
        for (int i = 0; i < 3; i++) {
            assertEquals(bases, segmentBases(at(i)), "node " + (i + 1) + "'s segments");
            assertEquals(cluster.digest(leader, TOPIC, 0), cluster.digest(i, TOPIC, 0));
        }

        // settings read from older metadata than those in force: not proposed
        topic.set(large);
        cluster.metadataIndex = 1;
        assertFalse(((ReplicatedPartition) at(leader)).proposeConfig(ReplicatedConfig.of(large, 1)));
        cluster.groups[leader].configure(TOPIC, 0);
        long after = appendBatches(30, 3, 5);
        cluster.awaitApplied(TOPIC, 0, after);
        assertEquals(1024L, configOf(leader).segmentBytes());

        // a restarted follower: its snapshot (taken at stop) records the settings, and it rolls as the others do
        int follower = (leader + 1) % 3;
        Path smDir = ((ReplicatedPartition) at(follower)).stateMachine().log().dir();
        cluster.stop(follower);
        SnapshotManifestFile m = SnapshotManifestFile.newest(smDir);
        assertTrue(m != null && m.config() != null && m.config().segmentBytes() == 1024L, "manifest " + m);
        cluster.start(follower);
        cluster.awaitApplied(TOPIC, 0, after);
        assertEquals(1024L, configOf(follower).segmentBytes());
        long last = appendBatches(33, 5, 5);
        cluster.awaitApplied(TOPIC, 0, last);
        for (int i = 0; i < 3; i++) {
            assertEquals(cluster.digest(cluster.leader(TOPIC, 0), TOPIC, 0), cluster.digest(i, TOPIC, 0));
        }
    }

    /**
     * A new group's leader takes the role (and so is announced, and takes batches) only once its topic settings are
     * applied: its first batch is applied with them (LogAppendTime here). While its metadata does not know the
     * topic it proposes nothing and answers NOT_LEADER_OR_FOLLOWER.
     */
    @Test
    void aLeaderTakesTheRoleOnlyWithItsTopicSettingsApplied() throws Exception {
        cluster = new ReplicaCluster(dir);
        java.util.concurrent.atomic.AtomicReference<LogConfig> topic = new java.util.concurrent.atomic.AtomicReference<>();
        cluster.topicConfigs = d -> topic.get();
        startWithPartition(1_000_000);
        ReplicaCluster.await(() -> {
            for (int i = 0; i < 3; i++) {
                if (((ReplicatedPartition) at(i)).raftLeaderReady()) {
                    return true;
                }
            }
            return false;
        }, "a ready Raft leader");
        int raftLeader = -1;
        for (int i = 0; i < 3; i++) {
            if (((ReplicatedPartition) at(i)).raftLeaderReady()) {
                raftLeader = i;
            }
            assertNotEquals(io.idemlog.server.log.PartitionRole.LEADER, at(i).role(), "node " + (i + 1));
        }
        assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, append(at(raftLeader),
            ReplicaCluster.batch(PRODUCER, (short) 0, 0, 1, "early")).error());
        assertNull(((ReplicatedPartition) at(raftLeader)).stateMachine().appliedConfig());

        topic.set(cluster.logConfig.withLogAppendTime(true));
        for (int i = 0; i < 3; i++) {
            cluster.groups[i].configure(TOPIC, 0);
        }
        int leader = cluster.leader(TOPIC, 0);
        AppendResult first = append(at(leader), ReplicaCluster.batch(PRODUCER, (short) 0, 0, 3, "first"));
        assertEquals(ErrorCode.NONE, first.error(), first.errorMessage());
        assertTrue(first.logAppendTime() > 0, "the first batch applied with LogAppendTime: " + first);
        for (int i = 0; i < 3; i++) {
            int n = i;
            ReplicaCluster.await(() -> ((ReplicatedPartition) at(n)).stateMachine().appliedConfig() != null,
                "the settings on node " + (i + 1));
            assertTrue(configOf(i).logAppendTime());
        }
    }
}
