package io.idemlog.server.cluster;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.Partition;
import io.idemlog.server.metadata.AdminException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * ClusterLogStore on three in-process metadata-group members: what one node creates, alters or deletes every
 * node's store shows; refusals carry the Kafka error a client must see; producer ids are unique across nodes.
 */
class ClusterLogStoreTest {
    private static final long TIMEOUT_MS = 60_000;

    @TempDir
    Path dir;
    private final MetadataQuorum[] nodes = new MetadataQuorum[3];
    private final ClusterLogStore[] stores = new ClusterLogStore[3];
    /** The partition "hosted" by node 1 (a stand-in: partition groups are h13-sm's). */
    private final Partition hosted = (Partition) Proxy.newProxyInstance(Partition.class.getClassLoader(),
        new Class<?>[] {Partition.class}, (p, m, a) -> {
            throw new UnsupportedOperationException(m.getName());
        });

    @BeforeEach
    void start() throws Exception {
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(s.getLocalPort());
            }
        }
        for (int i = 0; i < 3; i++) {
            ClusterConfig c = ClusterConfig.parse(i + 1, true, voters.toString(), null, null, 300,
                dir.resolve("node" + (i + 1)));
            nodes[i] = MetadataQuorum.start(c, MetadataQuorum.properties(c, 1000));
            boolean first = i == 0;
            stores[i] = new ClusterLogStore(nodes[i], (t, p) -> first && t.equals("orders") && p == 1 ? hosted : null,
                LogConfig.defaults(), 20_000);
        }
    }

    @AfterEach
    void stop() throws IOException {
        for (MetadataQuorum q : nodes) {
            if (q != null) {
                q.close();
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

    private void registerAll() throws Exception {
        for (int i = 0; i < 3; i++) {
            nodes[i].registerBroker("127.0.0.1", 9091 + i).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        await(() -> stores[0].maxReplicationFactor() == 3 && stores[1].maxReplicationFactor() == 3
            && stores[2].maxReplicationFactor() == 3,
            "three brokers registered everywhere");
    }

    private static ErrorCode error(ThrowingRunnable r) {
        AdminException e = assertThrows(AdminException.class, r::run);
        assertNotNull(e.getMessage());
        return e.error();
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void topicAdminThroughTheQuorumIsSeenByEveryNode() throws Exception {
        // before the brokers registered, RF 3 cannot be placed
        assertEquals(ErrorCode.INVALID_REPLICATION_FACTOR,
            error(() -> stores[1].createTopic("orders", 2, 3, Map.of(), false)));
        registerAll();
        assertEquals(ErrorCode.INVALID_REPLICATION_FACTOR,
            error(() -> stores[1].createTopic("orders", 2, 4, Map.of(), false)));
        assertEquals(ErrorCode.INVALID_REPLICATION_FACTOR,
            error(() -> stores[1].createTopic("orders", 2, 0, Map.of(), false)));
        assertEquals(ErrorCode.INVALID_PARTITIONS, error(() -> stores[1].createTopic("orders", 0, 3, Map.of(), false)));
        assertEquals(ErrorCode.INVALID_TOPIC_EXCEPTION, error(() -> stores[1].createTopic("a/b", 1, 3, Map.of(),
            false)));
        assertEquals(ErrorCode.INVALID_CONFIG, error(() -> stores[1].createTopic("orders", 2, 3,
            Map.of("retention.ms", "soon"), false)));
        assertEquals(ErrorCode.INVALID_CONFIG, error(() -> stores[1].createTopic("orders", 2, 3,
            Map.of("no.such.config", "1"), false)));
        assertNull(stores[1].createTopic("orders", 2, 3, Map.of(), true), "validate only");
        assertEquals(-1, stores[1].partitionCount("orders"));

        // every topic config is replicated (those apply decides with as config entries of the partition groups)
        UUID id = stores[1].createTopic("orders", 2, -1, Map.of("dedup.window.ms", "60000", "segment.ms", "60000"),
            false);
        assertNotNull(id);
        assertEquals(2, stores[1].partitionCount("orders"), "applied on the proposer when createTopic returns");
        await(() -> stores[0].partitionCount("orders") == 2 && stores[2].partitionCount("orders") == 2,
            "the topic on every node");
        for (ClusterLogStore s : stores) {
            assertEquals(id, s.topicId("orders"));
            assertEquals("orders", s.topicName(id));
            assertEquals(3, s.replicationFactor("orders"), "default.replication.factor = min(3, voters)");
            assertEquals(Map.of("orders", 2), s.topics());
            assertEquals("60000", s.topicConfig("orders").value("dedup.window.ms"));
            assertEquals("60000", s.topicConfig("orders").value("segment.ms"));
        }
        assertEquals(ErrorCode.TOPIC_ALREADY_EXISTS, error(() -> stores[2].createTopic("orders", 1, 1, Map.of(),
            false)));
        assertEquals(2, stores[2].createTopic("orders", 5), "auto-creation of an existing topic: its count");
        // partitions: only what this node hosts, and only inside the topic
        assertSame(hosted, stores[0].partition("orders", 1));
        assertNull(stores[0].partition("orders", 0));
        assertNull(stores[0].partition("orders", 2));
        assertNull(stores[1].partition("orders", 1));

        // the de-duplication window and the segment settings change too: the partitions' leaders propose them as
        // config entries, applied by every replica at the same point of the log (ReplicatedPartitionTest)
        stores[2].alterTopicConfig("orders", Map.of("dedup.window.ms", "1000", "retention.ms", "1000",
            "segment.bytes", "1048576"), false);
        await(() -> "1000".equals(stores[0].topicConfig("orders").value("retention.ms")), "configs everywhere");
        assertEquals("1000", stores[0].topicConfig("orders").value("dedup.window.ms"));
        assertEquals("1048576", stores[0].topicConfig("orders").value("segment.bytes"));
        assertEquals(ErrorCode.INVALID_CONFIG, error(() -> stores[2].alterTopicConfig("orders",
            Map.of("dedup.window.ms", "x"), false)));
        assertEquals(ErrorCode.INVALID_CONFIG, error(() -> stores[2].alterTopicConfig("orders",
            Map.of("segment.bytes", "10"), false)), "below segment.bytes' minimum");
        assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, error(() -> stores[2].alterTopicConfig("nope", Map.of(),
            false)));
        assertEquals(ErrorCode.INVALID_PARTITIONS, error(() -> stores[0].createPartitions("orders", 2, false)));
        stores[0].createPartitions("orders", 3, true);
        assertEquals(2, stores[0].partitionCount("orders"), "validate only changes nothing");
        stores[0].createPartitions("orders", 3, false);
        assertEquals(3, stores[0].partitionCount("orders"), "applied on the proposer when createPartitions returns");
        await(() -> stores[1].partitionCount("orders") == 3 && stores[2].partitionCount("orders") == 3,
            "the new partition on every node");
        assertEquals(ErrorCode.INVALID_PARTITIONS, error(() -> stores[1].createPartitions("orders", 3, false)));
        // DeleteRecords goes to the partition's leader (ReplicatedPartitionTest): not hosted here, not a partition
        assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER, error(() -> stores[0].deleteRecords("orders", 0, 5)));
        assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, error(() -> stores[0].deleteRecords("orders", 7, 5)));
        // a named producer's identity is the metadata group's: the same id from any node, the next epoch block,
        // and every node fences the older incarnation's epochs once its image has the init
        io.idemlog.server.state.ProducerIdentities.Identity a = stores[0].initNamedProducer("app-1");
        io.idemlog.server.state.ProducerIdentities.Identity b = stores[2].initNamedProducer("app-1");
        assertEquals(a.producerId(), b.producerId());
        assertEquals(a.epoch() + 16, b.epoch());
        await(() -> stores[1].namedProducerEpoch(a.producerId()) == b.epoch(), "the fence on node 2");
        assertEquals(-1L, stores[1].namedProducerEpoch(a.producerId() + 1), "not a named producer's id");
        assertThrows(IllegalArgumentException.class, () -> stores[0].initNamedProducer(""));
        long next = stores[1].nextProducerId();
        assertTrue(next != a.producerId(), "an unnamed producer never gets the named id");

        stores[0].deleteTopic("orders");
        assertEquals(-1, stores[0].partitionCount("orders"));
        assertNull(stores[0].partition("orders", 1));
        await(() -> stores[1].topics().isEmpty() && stores[2].topics().isEmpty(), "the deletion everywhere");
        assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, error(() -> stores[1].deleteTopic("orders")));
    }

    @Test
    void producerIdsAreUniqueAcrossNodesAndBlocks() throws Exception {
        Set<Long> seen = new HashSet<>();
        int perNode = 2 * MetadataQuorum.PRODUCER_ID_BLOCK + 10; // three blocks per node
        for (int n = 0; n < perNode; n++) {
            for (ClusterLogStore s : stores) {
                long id = s.nextProducerId();
                assertTrue(id >= 0);
                assertTrue(seen.add(id), "producer id " + id + " handed out twice");
            }
        }
        assertEquals(3 * perNode, seen.size());
        // 3 blocks per node: 9 blocks cut in the log, none by two nodes
        await(() -> nodes[0].image().nextProducerId() >= 9L * MetadataQuorum.PRODUCER_ID_BLOCK,
            "nine blocks applied");
    }

    /** A replica whose Raft division is at {@code term[0]} and knows leader {@code leader[0]} (-1: none). */
    private static Partition replica(int[] term, int[] leader) {
        return (Partition) Proxy.newProxyInstance(Partition.class.getClassLoader(), new Class<?>[] {Partition.class},
            (p, m, a) -> switch (m.getName()) {
                case "leaderEpoch" -> term[0];
                case "leaderId" -> leader[0];
                default -> throw new UnsupportedOperationException(m.getName());
            });
    }

    /**
     * Metadata's fresher leader (docs/REPLICATION.md section 4.9): the replica's leader only when its term is above the
     * image's epoch and it knows a leader; otherwise -1 (the image's LeaderChanged is answered).
     */
    @Test
    void newerLeaderIsTheReplicasOnlyWhenItsTermIsAboveTheImagesAndItKnowsOne() {
        int[] term = {5};
        int[] leader = {2};
        Partition r = replica(term, leader);
        ClusterLogStore store = new ClusterLogStore(nodes[0], (t, p) -> t.equals("orders") && p == 0 ? r : null,
            LogConfig.defaults(), 20_000);
        assertEquals((5L << 32) | 2, store.newerLeader("orders", 0, 4), "term 5 above the image's epoch 4");
        assertEquals(-1L, store.newerLeader("orders", 0, 5), "the image already has term 5");
        assertEquals(-1L, store.newerLeader("orders", 0, 7), "the image is ahead of this replica");
        assertEquals(-1L, store.newerLeader("orders", 1, 0), "no replica of partition 1 here");
        term[0] = 6;
        leader[0] = -1;
        assertEquals(-1L, store.newerLeader("orders", 0, 5), "an election in progress: no leader known");
        leader[0] = 3;
        assertEquals((6L << 32) | 3, store.newerLeader("orders", 0, 5), "elected");
    }
}
