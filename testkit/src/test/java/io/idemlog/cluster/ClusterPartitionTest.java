package io.idemlog.cluster;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.Header;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.testkit.Await;
import io.idemlog.testkit.ServerProcess;
import io.idemlog.testkit.WireConnection;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.idemlog.cluster.ClusterHarness.PARTITIONS;
import static io.idemlog.cluster.ClusterHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 acceptance, network faults between nodes (docs/REPLICATION.md section 8): three idemlog server processes
 * on 127.0.0.1, RF=3, min.insync.replicas=2, whose Raft links go through {@link RaftLinkProxy} (each node's
 * controller.quorum.voters entry is its proxy listener; the node binds replication.listen.port behind it). Kafka
 * clients reach every node directly: only the links between nodes fail. Two kafka-clients producers (acks=all, 5 in
 * flight) write 8 partitions each: {@code events} idempotent, {@code control} with enable.idempotence=false.
 *
 * <ol>
 *   <li>A follower cut off (a node leading no partition of {@code events}, or the one leading fewest): the
 *       partitions it does not lead keep acknowledging while it is away; after healing it catches up.</li>
 *   <li>The leader of {@code events}-0 cut off (blackhole, both directions): while cut off it answers no Produce
 *       with success (a probe sent straight to it is refused or unanswered; acks=all needs a majority), the other
 *       two elect a leader and acknowledge (time measured from the cut to the first acknowledgement of a record sent
 *       after it); the old leader's divisions step down while still cut off (Ratis logs "Lost leadership");
 *       after healing its uncommitted tail is gone (the probe's record is nowhere) and it catches up.</li>
 * </ol>
 * Then every acknowledged record of {@code events} is read back once, at its acknowledged offset, in order, and after
 * a clean stop every partition group's segments are byte-identical on the three nodes.
 */
@Tag("slow")
class ClusterPartitionTest {
    private static final String TOPIC = "events";
    private static final String CONTROL = "control";
    /** The probe record's value: a negative "seq" no producer sends. */
    private static final long PROBE = -7;

    @TempDir
    Path dir;
    private ClusterHarness cluster;
    private RaftLinkProxy proxy;

    @AfterEach
    void stopAll() {
        if (proxy != null) {
            proxy.heal();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    /** A Produce of one record (value {@link #PROBE}, no producer id, acks=all) sent straight to {@code node}. */
    private CompletableFuture<String> probe(int node, int partition) {
        ServerProcess n = cluster.nodes[node - 1];
        return CompletableFuture.supplyAsync(() -> {
            try (WireConnection c = WireConnection.connect(n.address(), Duration.ofSeconds(20))) {
                ByteBuffer buffer = ByteBuffer.allocate(256);
                RecordBatchBuilder builder = new RecordBatchBuilder().init(buffer, 0, buffer.capacity());
                builder.tryAppend(System.currentTimeMillis(), null,
                    Long.toString(PROBE).getBytes(StandardCharsets.US_ASCII), new Header[0]);
                int size = builder.close();
                ProduceRequest request = new ProduceRequest();
                request.acks = -1;
                request.timeoutMs = 10_000;
                ProduceRequest.TopicData topic = new ProduceRequest.TopicData(TOPIC);
                topic.partitions.add(new ProduceRequest.PartitionData(partition,
                    new MemoryRecords(buffer.slice(0, size))));
                request.topics.add(topic);
                ProduceResponse r = c.request(ApiKey.PRODUCE, c.version(ApiKey.PRODUCE, (short) 9), request,
                    ProduceResponse::read);
                ProduceResponse.PartitionResponse pr = r.topics.get(0).partitions.get(0);
                return ErrorCode.forCode(pr.errorCode) + (pr.errorCode == 0 ? " at offset " + pr.baseOffset : "");
            } catch (IOException e) {
                return "no answer (" + e + ")";
            }
        });
    }

    @Test
    void aCutOffFollowerAndACutOffLeaderNoDuplicateNoLoss() throws Exception {
        long t0 = System.nanoTime();
        cluster = new ClusterHarness(dir, "ClusterPartitionTest");
        proxy = cluster.startBehindProxy();
        ClusterHarness.Load load;
        ClusterHarness.Load control;
        long failoverMs;
        String probeAnswer;
        final int oldLeader;
        int follower;
        try (Admin admin = cluster.admin()) {
            cluster.createTopics(admin, TOPIC, CONTROL);
            load = new ClusterHarness.Load(cluster.bootstrap(), TOPIC, true, 1000);
            control = new ClusterHarness.Load(cluster.bootstrap(), CONTROL, false, 600);
            try {
                load.awaitAcked(1000);
                control.awaitAcked(600);
                assertEquals(0, proxy.unattributed(), "Raft connections not attributed to a node: "
                    + proxy.describeLinks());
                System.out.println("Raft links (src->dst): " + proxy.describeLinks());

                // 1. a follower cut off: what it does not lead keeps acknowledging
                int[] leaders = ClusterHarness.leaders(admin, TOPIC);
                int fewest = Integer.MAX_VALUE;
                int f = -1;
                for (int node = 1; node <= 3; node++) {
                    int led = ClusterHarness.ledBy(leaders, node).size();
                    if (led < fewest) {
                        fewest = led;
                        f = node;
                    }
                }
                follower = f;
                List<Integer> others = new ArrayList<>();
                for (int p = 0; p < PARTITIONS; p++) {
                    if (leaders[p] != follower) {
                        others.add(p);
                    }
                }
                long[] marks = new long[PARTITIONS];
                for (int p : others) {
                    marks[p] = load.markFault(p);
                }
                proxy.isolate(follower);
                long cutAt = System.nanoTime();
                Await.until(() -> "follower " + follower + " cut off: partitions " + others + " led elsewhere keep "
                    + "acknowledging; " + cluster.diagnostics(), TIMEOUT, () -> {
                        for (int p : others) {
                            if (!load.ackedAfterFault(p)) {
                                return false;
                            }
                        }
                        return true;
                    });
                long slowest = 0;
                for (int p : others) {
                    slowest = Math.max(slowest, load.firstAckAfter.get(p) - marks[p]);
                }
                load.awaitAcked(load.acked.size() + 1000); // a second of load with the follower away
                System.out.printf("follower %d (leads %d of %d) cut off: partitions %s acknowledged within %d ms of "
                    + "the cut; %d acknowledged; held %d chunks%n", follower, fewest, PARTITIONS, others,
                    TimeUnit.NANOSECONDS.toMillis(slowest), load.acked.size(), proxy.heldChunks());
                proxy.heal();
                System.out.printf("follower healed after %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt));
                cluster.awaitAllLed(admin, TOPIC, Set.of());
                load.awaitAcked(load.acked.size() + 500);

                // 2. the leader of events-0 cut off
                cluster.awaitAllLed(admin, TOPIC, Set.of());
                leaders = ClusterHarness.leaders(admin, TOPIC);
                oldLeader = leaders[0];
                List<Integer> led = ClusterHarness.ledBy(leaders, oldLeader);
                for (int p : led) {
                    marks[p] = load.markFault(p);
                }
                ServerProcess isolated = cluster.nodes[oldLeader - 1];
                long stepDownsBefore = ClusterHarness.stepDowns(isolated);
                double retriesBefore = load.metric("record-retry-total");
                long heldBefore = proxy.heldChunks();
                proxy.isolate(oldLeader);
                cutAt = System.nanoTime();
                CompletableFuture<String> probe = probe(oldLeader, 0);
                int cut = oldLeader;
                load.awaitAckAfterFault(0, () -> "an acknowledgement for partition 0 after its leader, node " + cut
                    + ", was cut off; " + load.view() + "; " + cluster.diagnostics());
                failoverMs = TimeUnit.NANOSECONDS.toMillis(load.firstAckAfter.get(0) - marks[0]);
                Await.until(() -> "every partition node " + oldLeader + " led (" + led + ") acknowledging again; "
                    + cluster.diagnostics(), TIMEOUT, () -> {
                        for (int p : led) {
                            if (!load.ackedAfterFault(p)) {
                                return false;
                            }
                        }
                        return true;
                    });
                long allMs = 0;
                for (int p : led) {
                    allMs = Math.max(allMs, TimeUnit.NANOSECONDS.toMillis(load.firstAckAfter.get(p) - marks[p]));
                }
                probeAnswer = probe.get(60, TimeUnit.SECONDS);
                double retriesDuringCut = load.metric("record-retry-total") - retriesBefore;
                System.out.printf("leader %d (of %s) cut off: partition 0 acknowledged by the majority after %d ms, "
                    + "all its partitions after %d ms; the probe sent straight to it: %s; producer retries during "
                    + "the cut %.0f; held %d chunks%n", oldLeader, led, failoverMs, allMs, probeAnswer,
                    retriesDuringCut, proxy.heldChunks() - heldBefore);
                assertTrue(!probeAnswer.startsWith("NONE"), "the cut-off leader acknowledged a write: " + probeAnswer);
                // still cut off: its leader divisions step down (lost majority), not only when healed
                Await.until(() -> "node " + oldLeader + " logs a leader division stepping down while cut off; "
                    + isolated.logTail(3000), TIMEOUT, () -> {
                        try {
                            return ClusterHarness.stepDowns(isolated) > stepDownsBefore;
                        } catch (IOException e) {
                            return false;
                        }
                    });
                System.out.printf("leader %d stepped down while cut off, %d ms after the cut%n", oldLeader,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt));
                proxy.heal();
                System.out.printf("leader healed after %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt));
                cluster.awaitAllLed(admin, TOPIC, Set.of());
                load.awaitAcked(load.acked.size() + 1000);
            } finally {
                load.close();
                control.close();
            }
            cluster.awaitAllLed(admin, TOPIC, Set.of());
        }
        assertEquals(null, load.error);
        assertEquals(null, control.error);
        List<List<long[]>> read = cluster.readAll(TOPIC);
        long probes = 0;
        for (List<long[]> part : read) {
            int before = part.size();
            part.removeIf(r -> r[1] == PROBE);
            probes += before - part.size();
        }
        long[] v = ClusterHarness.verify(read, load.acked);
        List<List<long[]>> readControl = cluster.readAll(CONTROL);
        long[] c = ClusterHarness.verify(readControl, control.acked);
        System.out.printf("idempotent: %d sent, %d acknowledged, %d failed, %.0f retries, %d read; duplicates %d, "
            + "missing %d, wrong offset %d, out of order %d; probe records stored %d; leader cut -> first ack %d ms%n",
            load.seq.get(), load.acked.size(), load.failed.get(), load.metric("record-retry-total"),
            ClusterHarness.sum(read), v[0], v[1], v[2], v[3], probes, failoverMs);
        System.out.printf("control (idempotence off): %d sent, %d acknowledged, %d failed, %.0f retries, %d read; "
            + "duplicates %d, missing %d, wrong offset %d, out of order %d%n", control.seq.get(),
            control.acked.size(), control.failed.get(), control.metric("record-retry-total"),
            ClusterHarness.sum(readControl), c[0], c[1], c[2], c[3]);
        assertEquals(0, load.failed.get(), "sends that failed");
        assertEquals(0, v[0], "records stored twice");
        assertEquals(0, v[1], "acknowledged records missing");
        assertEquals(0, v[2], "records not at the offset their producer was told");
        assertEquals(0, v[3], "records out of order within a partition");
        assertEquals(0, probes, "the record the cut-off leader was sent (" + probeAnswer + ") is in the log");
        assertTrue(failoverMs < 60_000, "failover took " + failoverMs + " ms"); // as ClusterStopTest's bound
        assertNotEquals(-1, follower);
        // every replica byte-identical: wait for the last one to catch up, stop cleanly, compare the segments
        long convergedMs = cluster.awaitReplicasConverged();
        System.out.printf("replicas converged %d ms after the read-back%n", convergedMs);
        assertEquals(List.of(), cluster.stopAll(), "nodes that did not stop cleanly");
        cluster.assertSegmentsIdentical(2 * PARTITIONS);
        System.out.printf("ClusterPartitionTest wall time %d s (old leader %d)%n",
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0), oldLeader);
    }
}
