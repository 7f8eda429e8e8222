package io.idemlog.server.cluster;

import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * ClusterNode on three in-process metadata members, each with fake partition groups: every node hosts exactly the
 * partitions assigned to it, the node whose group leads gets itself into the image as leader at its term, deleted
 * topics' groups go, and a group the (still replaying) image does not know is kept, not deleted.
 */
class ClusterNodeTest {
    private static final long TIMEOUT_MS = 60_000;

    @TempDir
    Path dir;
    private final MetadataQuorum[] quorums = new MetadataQuorum[3];
    private final ClusterNode[] nodes = new ClusterNode[3];
    private final FakeReplicas[] replicas = new FakeReplicas[3];

    /** Fake partition groups: a set of hosted replicas, and per replica a role and term the test sets. */
    static final class FakeReplicas implements ClusterNode.Replicas {
        final Map<ClusterNode.ReplicaId, String> hosted = new ConcurrentHashMap<>();
        final Map<String, Integer> leading = new ConcurrentHashMap<>(); // "topic-p" -> term
        final Set<ClusterNode.ReplicaId> removed = ConcurrentHashMap.newKeySet();

        @Override
        public void ensure(String topic, UUID topicId, int partition, List<Integer> replicas) {
            hosted.putIfAbsent(new ClusterNode.ReplicaId(topicId, partition), topic);
        }

        @Override
        public void remove(UUID topicId, int partition) {
            ClusterNode.ReplicaId id = new ClusterNode.ReplicaId(topicId, partition);
            if (hosted.remove(id) != null) {
                removed.add(id);
            }
        }

        @Override
        public Partition partition(String topic, int index) {
            if (!hosted.containsValue(topic)) {
                return null;
            }
            Integer term = leading.get(topic + "-" + index);
            return (Partition) Proxy.newProxyInstance(Partition.class.getClassLoader(),
                new Class<?>[] {Partition.class}, (p, m, a) -> switch (m.getName()) {
                    case "role" -> term == null ? PartitionRole.FOLLOWER : PartitionRole.LEADER;
                    case "leaderEpoch" -> term == null ? 0 : term;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        }

        @Override
        public Set<ClusterNode.ReplicaId> hosted() {
            return new HashSet<>(hosted.keySet());
        }
    }

    private void startAll(FakeReplicas[] fakes) throws IOException {
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(s.getLocalPort());
            }
        }
        for (int i = 0; i < 3; i++) {
            ClusterConfig c = ClusterConfig.parse(i + 1, true, voters.toString(), null, null, 300,
                dir.resolve("node" + (i + 1)));
            quorums[i] = MetadataQuorum.start(c, MetadataQuorum.properties(c, 1000));
            replicas[i] = fakes[i];
            nodes[i] = new ClusterNode(quorums[i], fakes[i], 50);
        }
    }

    @AfterEach
    void stop() throws IOException {
        for (int i = 0; i < 3; i++) {
            if (nodes[i] != null) {
                nodes[i].close();
            }
            if (quorums[i] != null) {
                quorums[i].close();
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + TIMEOUT_MS + " ms waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // a poll interval, not a synchronisation
        }
    }

    @Test
    void nodesHostTheirAssignmentsProposeTheirLeadershipAndDropDeletedTopics() throws Exception {
        FakeReplicas[] fakes = {new FakeReplicas(), new FakeReplicas(), new FakeReplicas()};
        // node 3 hosts a group of a topic the image does not know (as after a restart, before the replay)
        ClusterNode.ReplicaId orphan = new ClusterNode.ReplicaId(new UUID(7, 7), 0);
        fakes[2].hosted.put(orphan, "unknown-yet");
        startAll(fakes);
        for (int i = 0; i < 3; i++) {
            nodes[i].registerBroker("127.0.0.1", 9091 + i, 100);
        }
        await(() -> quorums[0].image().brokers().size() == 3, "three brokers registered");

        ClusterImage.TopicState t = quorums[1].createTopic("orders", 6, 2, Map.of()).get(TIMEOUT_MS,
            TimeUnit.MILLISECONDS);
        await(() -> replicas[0].hosted.size() + replicas[1].hosted.size() + replicas[2].hosted.size() == 12 + 1,
            "every replica hosted");
        for (int i = 0; i < 3; i++) {
            for (int p = 0; p < 6; p++) {
                boolean assigned = t.partitions().get(p).replicas().contains(i + 1);
                assertEquals(assigned, replicas[i].hosted.containsKey(new ClusterNode.ReplicaId(t.id(), p)),
                    "node " + (i + 1) + " partition " + p);
            }
        }
        // partition 0's second replica becomes the Raft leader at term 4: it puts itself into the image
        int p0second = t.partitions().get(0).replicas().get(1);
        replicas[p0second - 1].leading.put("orders-0", 4);
        for (MetadataQuorum q : quorums) {
            await(() -> q.image().topic("orders").partitions().get(0).leaderEpoch() == 4,
                "LeaderChanged applied on node " + q.nodeId());
            assertEquals(p0second, q.image().topic("orders").partitions().get(0).leader());
        }
        // a node that is not leading proposes nothing: the other partitions keep epoch 0
        for (int p = 1; p < 6; p++) {
            assertEquals(0, quorums[0].image().topic("orders").partitions().get(p).leaderEpoch());
        }

        quorums[0].deleteTopic(t.id()).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        await(() -> replicas[0].removed.size() + replicas[1].removed.size() + replicas[2].removed.size() == 12,
            "every replica of the deleted topic removed");
        long passes = nodes[2].passes();
        await(() -> nodes[2].passes() > passes + 2, "more passes on node 3");
        assertTrue(replicas[2].hosted.containsKey(orphan), "a group the image does not know is kept");
        assertEquals(Set.of(orphan), replicas[2].hosted());
    }
}
