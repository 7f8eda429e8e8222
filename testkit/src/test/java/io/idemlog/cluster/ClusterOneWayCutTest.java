package io.idemlog.cluster;

import io.idemlog.testkit.Await;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

import static io.idemlog.cluster.ClusterHarness.PARTITIONS;
import static io.idemlog.cluster.ClusterHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One-way network cuts of a partition leader's Raft links (issue 13: "a one-direction cut"), under load from a
 * kafka-clients idempotent producer and a control producer without idempotence, on a 3-node cluster whose Raft
 * traffic goes through {@link RaftLinkProxy}:
 * <ol>
 * <li>the leader of {@code events-0} can receive but not send: its followers hear nothing, elect another leader,
 *     and that leader's entries reach the old one, which steps down;</li>
 * <li>the (new) leader of {@code events-0} can send but not receive: its followers keep getting its heartbeats, so
 *     they start no election on their own; the leader hears no answer, must stop acting as leader (it answers
 *     NOT_LEADER_OR_FOLLOWER once it has not heard a majority within twice the election timeout, and its Raft
 *     division steps down), and only then can the others elect one.</li>
 * </ol>
 * Each time every partition the cut node led must acknowledge a record sent after the cut; after healing, every
 * acknowledged record is read back once, at its offset, in order, and the replicas' segments are byte-identical.
 */
@Tag("slow")
class ClusterOneWayCutTest {
    private static final String TOPIC = "events";
    private static final String CONTROL = "control";

    @TempDir
    Path dir;
    private ClusterHarness cluster;
    private RaftLinkProxy proxy;

    @AfterEach
    void stopAll() {
        if (proxy != null) {
            proxy.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Cuts the leader of events-0 with {@code cut}, waits until each partition it led acknowledges again, heals. */
    private long cutLeader(Admin admin, ClusterHarness.Load load, String what, IntConsumer cut) {
        cluster.awaitAllLed(admin, TOPIC, Set.of());
        int[] leaders = ClusterHarness.leaders(admin, TOPIC);
        int leader = leaders[0];
        List<Integer> led = ClusterHarness.ledBy(leaders, leader);
        long[] marks = new long[PARTITIONS];
        for (int p : led) {
            marks[p] = load.markFault(p);
        }
        cut.accept(leader);
        long cutAt = System.nanoTime();
        Await.until(() -> what + " (node " + leader + ", leading " + led + "): every partition it led acknowledging "
            + "again; " + load.view() + "; " + cluster.diagnostics(), TIMEOUT, () -> {
                for (int p : led) {
                    if (!load.ackedAfterFault(p)) {
                        return false;
                    }
                }
                return true;
            });
        long slowest = 0;
        for (int p : led) {
            slowest = Math.max(slowest, load.firstAckAfter.get(p) - marks[p]);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(slowest);
        System.out.printf("%s: node %d (leading %s) cut; every partition it led acknowledged within %d ms; held %d "
            + "chunks%n", what, leader, led, ms, proxy.heldChunks());
        proxy.heal();
        System.out.printf("%s: healed after %d ms%n", what, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt));
        cluster.awaitAllLed(admin, TOPIC, Set.of());
        load.awaitAcked(load.acked.size() + 500);
        return ms;
    }

    @Test
    void aLeaderThatCannotSendAndALeaderThatCannotHearNoDuplicateNoLoss() throws Exception {
        long t0 = System.nanoTime();
        cluster = new ClusterHarness(dir, "ClusterOneWayCutTest");
        proxy = cluster.startBehindProxy();
        ClusterHarness.Load load;
        ClusterHarness.Load control;
        long mutedMs;
        long deafMs;
        try (Admin admin = cluster.admin()) {
            cluster.createTopics(admin, TOPIC, CONTROL);
            load = new ClusterHarness.Load(cluster.bootstrap(), TOPIC, true, 1000);
            control = new ClusterHarness.Load(cluster.bootstrap(), CONTROL, false, 600);
            try {
                load.awaitAcked(1000);
                control.awaitAcked(600);
                assertEquals(0, proxy.unattributed(), "Raft connections not attributed to a node: "
                    + proxy.describeLinks());
                mutedMs = cutLeader(admin, load, "leader cannot send", proxy::muteSender);
                deafMs = cutLeader(admin, load, "leader cannot hear", proxy::deafen);
            } finally {
                load.close();
                control.close();
            }
            cluster.awaitAllLed(admin, TOPIC, Set.of());
        }
        assertEquals(null, load.error);
        assertEquals(null, control.error);
        List<List<long[]>> read = cluster.readAll(TOPIC);
        long[] v = ClusterHarness.verify(read, load.acked);
        long[] c = ClusterHarness.verify(cluster.readAll(CONTROL), control.acked);
        System.out.printf("idempotent: %d sent, %d acknowledged, %d failed, %.0f retries; duplicates %d, missing %d, "
            + "wrong offset %d, out of order %d; control (idempotence off): %d acknowledged, duplicates %d, missing "
            + "%d; cut -> all acknowledging: cannot send %d ms, cannot hear %d ms%n", load.seq.get(),
            load.acked.size(), load.failed.get(), load.metric("record-retry-total"), v[0], v[1], v[2], v[3],
            control.acked.size(), c[0], c[1], mutedMs, deafMs);
        assertEquals(0, load.failed.get(), "sends that failed");
        assertEquals(0, v[0], "records stored twice");
        assertEquals(0, v[1], "acknowledged records missing");
        assertEquals(0, v[2], "records not at the offset their producer was told");
        assertEquals(0, v[3], "records out of order within a partition");
        long convergedMs = cluster.awaitReplicasConverged();
        System.out.printf("replicas converged %d ms after the read-back%n", convergedMs);
        assertEquals(List.of(), cluster.stopAll(), "nodes that did not stop cleanly");
        cluster.assertSegmentsIdentical(2 * PARTITIONS);
        System.out.printf("ClusterOneWayCutTest wall time %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime()
            - t0));
    }
}
