package io.idemlog.server.replication;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.AppendResult;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Leadership follows the preferred replica (the first of the partition's replica list, which placement rotates per
 * partition): three groups on three nodes are led one per node, and a group whose preferred node stopped and came back
 * is led from there again once that node has caught up. Before (no priorities) the first node up led most groups, so
 * one kill moved most leaders at once.
 */
class PreferredLeaderTest {
    private static final String TOPIC = "spread";
    private static final List<List<Integer>> ASSIGNMENT = List.of(List.of(1, 2, 3), List.of(2, 3, 1), List.of(3, 1, 2));

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

    private void awaitLedBy(int partition, int node) {
        ReplicaCluster.await(() -> {
            Partition p = cluster.groups[node] == null ? null : cluster.groups[node].partition(TOPIC, partition);
            return p != null && p.role() == PartitionRole.LEADER;
        }, TOPIC + "-" + partition + " led by node " + (node + 1));
    }

    @Test
    void eachGroupIsLedByItsFirstReplicaAndLeadershipReturnsAfterARestart() throws Exception {
        cluster = new ReplicaCluster(dir);
        cluster.startAll();
        for (int p = 0; p < ASSIGNMENT.size(); p++) {
            for (int i = 0; i < 3; i++) {
                cluster.groups[i].ensure(TOPIC, topicId, p, ASSIGNMENT.get(p));
            }
        }
        for (int p = 0; p < ASSIGNMENT.size(); p++) {
            awaitLedBy(p, ASSIGNMENT.get(p).get(0) - 1);
        }

        // Node 1 (preferred for partition 0) stops: another node leads it and takes writes.
        cluster.stop(0);
        int interim = cluster.leader(TOPIC, 0);
        assertNotEquals(0, interim);
        byte[] batch = ReplicaCluster.batch(11, (short) 0, 0, 3, "while-away");
        AppendResult r = ReplicaCluster.append(cluster.groups[interim].partition(TOPIC, 0), batch);
        assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());

        // Back: it catches up and leads partition 0 again, with what was written meanwhile.
        cluster.start(0);
        awaitLedBy(0, 0);
        assertEquals(r.lastOffset() + 1, cluster.groups[0].partition(TOPIC, 0).logEndOffset());
        for (int p = 1; p < ASSIGNMENT.size(); p++) {
            awaitLedBy(p, ASSIGNMENT.get(p).get(0) - 1);
        }
    }
}
