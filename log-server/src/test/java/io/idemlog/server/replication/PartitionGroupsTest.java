package io.idemlog.server.replication;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.AppendResult;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import org.apache.ratis.protocol.RaftGroupId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static io.idemlog.server.replication.ReplicaCluster.append;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PartitionGroups on three in-process Raft servers (each also hosting the metadata group). */
class PartitionGroupsTest {
    @TempDir
    Path dir;
    private ReplicaCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void ensureHostsTheGroupOnEveryReplicaAndItsBatchesApplyIdentically() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.startAll();
        UUID id = UUID.randomUUID();
        for (int i = 0; i < 3; i++) {
            assertNull(cluster.groups[i].partition("orders", 0));
            cluster.groups[i].ensure("orders", id, 0, List.of(1, 2, 3));
            cluster.groups[i].ensure("orders", id, 0, List.of(1, 2, 3)); // idempotent
            assertNotNull(cluster.groups[i].partition("orders", 0));
            assertEquals(java.util.Set.of(new io.idemlog.server.cluster.ClusterNode.ReplicaId(id, 0)),
                cluster.groups[i].hosted());
        }
        RaftGroupId gid = PartitionGroups.groupId(id, 0);
        for (int i = 0; i < 3; i++) {
            int count = 0;
            for (RaftGroupId g : cluster.quorums[i].server().getGroupIds()) {
                count += g.equals(gid) ? 1 : 0;
            }
            assertEquals(1, count, "node " + (i + 1) + " hosts the group once");
        }
        int leader = cluster.leader("orders", 0);
        Partition p = cluster.groups[leader].partition("orders", 0);
        for (int i = 0; i < 3; i++) {
            if (i != leader) {
                Partition f = cluster.groups[i].partition("orders", 0);
                assertEquals(PartitionRole.FOLLOWER, f.role());
                AppendResult refused = append(f, ReplicaCluster.batch(7, (short) 0, 0, 3, "x"));
                assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, refused.error(), "a follower refuses appends");
            }
        }
        long next = 0;
        for (int b = 0; b < 20; b++) {
            AppendResult r = append(p, ReplicaCluster.batch(7, (short) 0, b * 3, 3, "b" + b));
            assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
            assertEquals(next, r.baseOffset());
            assertFalse(r.duplicate());
            next = r.lastOffset() + 1;
        }
        assertTrue(p.leaderEpoch() > 0, "the leader epoch is the Raft term");
        cluster.awaitApplied("orders", 0, next);
        String expected = cluster.digest(leader, "orders", 0);
        for (int i = 0; i < 3; i++) {
            assertEquals(expected, cluster.digest(i, "orders", 0), "node " + (i + 1) + "'s segment bytes");
        }
    }

    @Test
    void aRestartedNodeRecoversItsGroupsFromStorageAndRemoveDeletesThem() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.startAll();
        UUID id = UUID.randomUUID();
        for (int i = 0; i < 3; i++) {
            cluster.groups[i].ensure("events", id, 2, List.of(1, 2, 3));
        }
        int leader = cluster.leader("events", 2);
        long next = 0;
        for (int b = 0; b < 5; b++) {
            AppendResult r = append(cluster.groups[leader].partition("events", 2),
                ReplicaCluster.batch(9, (short) 0, b * 2, 2, "e" + b));
            assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
            next = r.lastOffset() + 1;
        }
        cluster.awaitApplied("events", 2, next);
        String before = cluster.digest(0, "events", 2);
        cluster.stop(0);
        cluster.start(0); // no ensure: the group comes back from the Raft storage, found by its descriptor
        Partition recovered = cluster.groups[0].partition("events", 2);
        assertNotNull(recovered, "the group was recovered at start");
        assertEquals(java.util.Set.of(new io.idemlog.server.cluster.ClusterNode.ReplicaId(id, 2)),
            cluster.groups[0].hosted());
        cluster.awaitApplied("events", 2, next);
        assertEquals(before, cluster.digest(0, "events", 2));

        Path groupDir = cluster.configs[0].raftDir().resolve(PartitionGroups.groupId(id, 2).getUuid().toString());
        assertTrue(Files.isDirectory(groupDir), groupDir + " exists");
        cluster.groups[0].remove(id, 2);
        assertNull(cluster.groups[0].partition("events", 2));
        ReplicaCluster.await(() -> !Files.exists(groupDir), "the group's directory deleted");
        cluster.groups[0].remove(id, 2); // idempotent
    }

    @Test
    void badBatchesAreRefusedBeforeProposingAndALargeBatchReplicates() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.startAll();
        UUID id = UUID.randomUUID();
        int[] readyTerms = new int[3];
        for (int i = 0; i < 3; i++) {
            int node = i;
            cluster.groups[i].setLeaderListener((topicId, partition, term) -> {
                if (topicId.equals(id) && partition == 1) {
                    readyTerms[node] = term;
                }
            });
            cluster.groups[i].ensure("blobs", id, 1, List.of(1, 2, 3));
        }
        int leader = cluster.leader("blobs", 1);
        Partition p = cluster.groups[leader].partition("blobs", 1);
        ReplicaCluster.await(() -> readyTerms[leader] > 0, "the leader listener told of the ready leader");
        assertEquals(p.leaderEpoch(), readyTerms[leader], "told the term = the leader epoch");
        assertEquals(leader + 1, p.leaderId());
        RaftGroupId gid = PartitionGroups.groupId(id, 1);
        long raftEnd = cluster.quorums[leader].server().getDivision(gid).getRaftLog().getLastEntryTermIndex()
            .getIndex();

        byte[] good = ReplicaCluster.batch(11, (short) 0, 0, 5, "g");
        byte[] badCrc = good.clone();
        badCrc[badCrc.length - 1] ^= 0x55;
        assertEquals(ErrorCode.CORRUPT_MESSAGE, append(p, badCrc).error());
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 7);
        assertTrue(append(p, truncated).error() != ErrorCode.NONE, "a truncated batch is refused");
        byte[] garbage = new byte[100];
        new java.util.Random(13).nextBytes(garbage);
        assertTrue(append(p, garbage).error() != ErrorCode.NONE, "garbage is refused");
        assertEquals(raftEnd, cluster.quorums[leader].server().getDivision(gid).getRaftLog()
            .getLastEntryTermIndex().getIndex(), "nothing refused entered the Raft log");
        assertEquals(0L, p.logEndOffset());

        // A batch near message.max.bytes (1 MiB) is one Raft entry, replicated like any other.
        byte[] big = bigBatch(1_000_000);
        AppendResult r = append(p, big);
        assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
        AppendResult after = append(p, good);
        assertEquals(ErrorCode.NONE, after.error(), after.errorMessage());
        cluster.awaitApplied("blobs", 1, after.lastOffset() + 1);
        String expected = cluster.digest(leader, "blobs", 1);
        for (int i = 0; i < 3; i++) {
            assertEquals(expected, cluster.digest(i, "blobs", 1));
        }
    }

    private static byte[] bigBatch(int bytes) {
        ByteBuffer buf = ByteBuffer.allocate(bytes + 1024);
        io.idemlog.common.record.RecordBatchBuilder b = new io.idemlog.common.record.RecordBatchBuilder()
            .init(buf, 0, buf.capacity());
        byte[] value = new byte[10_000];
        new java.util.Random(7).nextBytes(value);
        int written = 0;
        while (written + value.length + 200 < bytes && b.tryAppend(1_700_000_000_000L, null, value, null)) {
            written += value.length;
        }
        int size = b.close();
        return java.util.Arrays.copyOf(buf.array(), size);
    }
}
