package io.idemlog.server.cluster;

import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three metadata-group members as in-process Ratis servers on free 127.0.0.1 ports, each with its own storage
 * directory. "Killing" a node closes its Ratis server (the process-level SIGKILL test is not written yet).
 */
class MetadataQuorumTest {
    private static final long TIMEOUT_MS = 60_000;

    @TempDir
    Path dir;
    private final MetadataQuorum[] nodes = new MetadataQuorum[3];
    private ClusterConfig[] configs;
    private long snapshotEvery = 1000;

    @AfterEach
    void stopAll() throws IOException {
        for (int i = 0; i < nodes.length; i++) {
            stop(i);
        }
    }

    private void startCluster(long snapshotEveryEntries) throws IOException {
        snapshotEvery = snapshotEveryEntries;
        int[] ports = new int[3];
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                ports[i] = s.getLocalPort();
            }
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(ports[i]);
        }
        configs = new ClusterConfig[3];
        for (int i = 0; i < 3; i++) {
            configs[i] = ClusterConfig.parse(i + 1, true, voters.toString(), null, null, 300,
                dir.resolve("node" + (i + 1)));
        }
        for (int i = 0; i < 3; i++) {
            start(i);
        }
    }

    private void start(int i) throws IOException {
        RaftProperties p = MetadataQuorum.properties(configs[i], snapshotEvery);
        // small segments, so that a snapshot lets the leader purge entries a stopped node has not seen
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("8KB"));
        RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf("4KB"));
        nodes[i] = MetadataQuorum.start(configs[i], p);
    }

    private void stop(int i) throws IOException {
        if (nodes[i] != null) {
            MetadataQuorum q = nodes[i];
            nodes[i] = null;
            q.close();
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

    private int leader() {
        int[] found = {-1};
        await(() -> {
            for (int i = 0; i < 3; i++) {
                if (nodes[i] != null && nodes[i].isLeader()) {
                    found[0] = i;
                    return true;
                }
            }
            return false;
        }, "a metadata leader");
        return found[0];
    }

    private void awaitSameImage(String what) {
        await(() -> {
            ClusterImage first = null;
            for (MetadataQuorum q : nodes) {
                if (q == null) {
                    continue;
                }
                if (first == null) {
                    first = q.image();
                } else if (!first.equals(q.image())) {
                    return false;
                }
            }
            return true;
        }, what);
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    @Test
    void aTopicProposedOnAFollowerIsVisibleOnAllNodes() throws Exception {
        startCluster(1000);
        int follower = (leader() + 1) % 3;
        MetadataQuorum f = nodes[follower];
        assertFalse(f.isLeader());
        ClusterImage.TopicState t = get(f.createTopic("orders", 4, -1, Map.of("retention.ms", "60000")));
        // applied on the proposing follower when the future completes
        assertEquals(t, f.image().topic("orders"));
        assertEquals(4, t.partitions().size());
        for (int p = 0; p < 4; p++) {
            ClusterImage.PartitionState s = t.partitions().get(p);
            assertEquals(3, s.replicas().size());
            assertEquals(3, s.replicas().stream().distinct().count());
            assertEquals(s.replicas().get(0), s.leader());
            assertEquals(0, s.leaderEpoch());
        }
        // the preferred leader rotates over the partitions
        assertEquals(3, t.partitions().subList(0, 3).stream().map(ClusterImage.PartitionState::leader).distinct()
            .count());
        awaitSameImage("the topic on all three nodes");
        for (MetadataQuorum q : nodes) {
            assertEquals(Map.of("retention.ms", "60000"), q.image().topic("orders").configs());
        }
        // refused identically everywhere, without changing the image
        ExecutionException dup = assertThrows(ExecutionException.class,
            () -> get(nodes[(follower + 1) % 3].createTopic("orders", 1, 1, Map.of())));
        assertInstanceOf(MetadataQuorum.RefusedException.class, dup.getCause());
        assertTrue(dup.getCause().getMessage().contains("already exists"), dup.getCause().getMessage());
        int newLeader = t.partitions().get(0).replicas().get(1);
        get(f.changeLeader(t.id(), 0, newLeader, 1));
        ExecutionException stale = assertThrows(ExecutionException.class,
            () -> get(f.changeLeader(t.id(), 0, newLeader, 1)));
        assertTrue(stale.getCause().getMessage().contains("not above the current 1"), stale.getCause().getMessage());
        get(f.replaceConfigs(t.id(), Map.of()));
        awaitSameImage("leader change and configs on all nodes");
        assertEquals(newLeader, nodes[0].image().topic("orders").partitions().get(0).leader());
        assertEquals(1, nodes[1].image().topic("orders").partitions().get(0).leaderEpoch());
        assertEquals(Map.of(), nodes[2].image().topic("orders").configs());
        get(f.deleteTopic(t.id()));
        awaitSameImage("the deletion on all nodes");
        assertTrue(nodes[0].image().topics().isEmpty());
    }

    /** Allocates blocks from node {@code i} until {@code count} succeeded, in a thread; blocks go to {@code out}. */
    private Thread allocator(int i, int count, List<MetadataQuorum.ProducerIdBlock> out, List<Throwable> errors) {
        MetadataQuorum q = nodes[i];
        Thread t = new Thread(() -> {
            try {
                for (int n = 0; n < count; n++) {
                    out.add(q.allocateProducerIdBlock().get(TIMEOUT_MS, TimeUnit.MILLISECONDS));
                }
            } catch (Exception | AssertionError e) {
                errors.add(e);
            }
        }, "allocator-" + (i + 1));
        t.start();
        return t;
    }

    private static void assertDisjoint(List<MetadataQuorum.ProducerIdBlock> blocks) {
        List<MetadataQuorum.ProducerIdBlock> sorted = new ArrayList<>(blocks);
        sorted.sort(Comparator.comparingLong(MetadataQuorum.ProducerIdBlock::firstId));
        for (int i = 1; i < sorted.size(); i++) {
            assertTrue(sorted.get(i - 1).endId() <= sorted.get(i).firstId(),
                "blocks overlap: " + sorted.get(i - 1) + " and " + sorted.get(i));
        }
    }

    @Test
    void producerIdBlocksFromAllNodesNeverOverlapAcrossALeaderKill() throws Exception {
        startCluster(1000);
        List<MetadataQuorum.ProducerIdBlock> blocks = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            threads.add(allocator(i, 20, blocks, errors));
        }
        for (Thread t : threads) {
            t.join(TIMEOUT_MS);
        }
        assertTrue(errors.isEmpty(), errors.toString());
        assertEquals(60, blocks.size());

        // the two followers allocate while the leader is killed under them
        int leader = leader();
        threads.clear();
        int before = blocks.size();
        for (int i = 0; i < 3; i++) {
            if (i != leader) {
                threads.add(allocator(i, 15, blocks, errors));
            }
        }
        await(() -> blocks.size() >= before + 4, "a few blocks allocated before the kill");
        stop(leader);
        for (Thread t : threads) {
            t.join(TIMEOUT_MS);
            assertFalse(t.isAlive(), t.getName() + " still allocating");
        }
        assertTrue(errors.isEmpty(), errors.toString());
        assertEquals(90, blocks.size());
        int newLeader = leader();
        assertTrue(newLeader != leader);

        // the killed node comes back and allocates with the others
        start(leader);
        threads.clear();
        for (int i = 0; i < 3; i++) {
            threads.add(allocator(i, 10, blocks, errors));
        }
        for (Thread t : threads) {
            t.join(TIMEOUT_MS);
        }
        assertTrue(errors.isEmpty(), errors.toString());
        assertEquals(120, blocks.size());
        assertDisjoint(blocks);
        awaitSameImage("the same producer-id state on all nodes");
        long maxEnd = blocks.stream().mapToLong(MetadataQuorum.ProducerIdBlock::endId).max().orElseThrow();
        assertTrue(nodes[0].image().nextProducerId() >= maxEnd);
    }

    /**
     * The control: the same apply function fed by each node's own local log (no replication, which is what a
     * per-node allocator amounts to) hands out the same ids on every node.
     */
    /**
     * The leader's appender never waits longer than half an election timeout between attempts to one follower,
     * however many attempts failed (a node down for minutes, a group its node adds late): so a follower is reached
     * well within an election timeout of it becoming able to take entries. Control: Ratis's default waits up to
     * 7.5 s after 30 failures.
     */
    @Test
    void theAppenderRetriesAFailingFollowerWithinHalfAnElectionTimeoutForever() throws Exception {
        for (long electionMs : new long[] {150, 300, 1000, 5000}) {
            ClusterConfig c = ClusterConfig.parse(1, true, "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3", null, null,
                electionMs, dir.resolve("p" + electionMs));
            String policy = RaftServerConfigKeys.Log.Appender.retryPolicy(MetadataQuorum.properties(c, 1000));
            long longest = longestWaitMs(policy, 100_000);
            assertTrue(longest > 0 && longest <= electionMs / 2 + 1,
                "election timeout " + electionMs + " ms: longest appender wait " + longest + " ms (" + policy + ")");
        }
        assertTrue(longestWaitMs(RaftServerConfigKeys.Log.Appender.RETRY_POLICY_DEFAULT, 1_000) >= 7_000,
            "control: Ratis's default waits seconds");
    }

    /** A snapshot interval of entries stays in the Raft log below each snapshot (ReplicatedPartitionTest shows why). */
    @Test
    void theRaftLogKeepsASnapshotIntervalOfEntriesBelowEachSnapshot() throws Exception {
        ClusterConfig c = ClusterConfig.parse(1, true, "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3", null, null, 1000,
            dir.resolve("keep"));
        assertEquals(1000L, RaftServerConfigKeys.Log.purgePreservationLogNum(MetadataQuorum.properties(c, 1000)));
        assertEquals(0L, RaftServerConfigKeys.Log.PURGE_PRESERVATION_LOG_NUM_DEFAULT, "Ratis's default keeps none");
    }

    /** The longest wait drawn by a Ratis retry policy over its first {@code attempts}; -1: it ends before. */
    private static long longestWaitMs(String policy, int attempts) {
        org.apache.ratis.retry.RetryPolicy r = org.apache.ratis.retry.MultipleLinearRandomRetry
            .parseCommaSeparated(policy);
        long longest = 0;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            int n = attempt;
            org.apache.ratis.retry.RetryPolicy.Action a = r.handleAttemptFailure(() -> n);
            if (!a.shouldRetry()) {
                return -1;
            }
            // the drawn time is uniform in [0.5t, 1.5t]: draw a few and keep the largest seen, bounded by 1.5t
            for (int k = 0; k < 4; k++) {
                longest = Math.max(longest, a.getSleepTime().toLong(TimeUnit.MILLISECONDS));
            }
        }
        return longest;
    }

    @Test
    void controlPerNodeLocalAllocationCollides() {
        List<MetadataQuorum.ProducerIdBlock> blocks = new ArrayList<>();
        for (int node = 1; node <= 3; node++) {
            ClusterImage local = ClusterImage.EMPTY;
            for (int n = 0; n < 5; n++) {
                ClusterImage.Result r = local.apply(java.nio.ByteBuffer.wrap(ClusterImage.producerIdBlock(node,
                    MetadataQuorum.PRODUCER_ID_BLOCK)));
                blocks.add(new MetadataQuorum.ProducerIdBlock(r.value(), MetadataQuorum.PRODUCER_ID_BLOCK));
                local = r.image();
            }
        }
        AssertionError e = assertThrows(AssertionError.class, () -> assertDisjoint(blocks));
        assertTrue(e.getMessage().contains("blocks overlap"), e.getMessage());
    }

    @Test
    void aRestartedNodeCatchesUpByLogAndBySnapshotInstall() throws Exception {
        startCluster(50);
        int leader = leader();
        int lagging = (leader + 1) % 3;
        int proposer = (leader + 2) % 3;
        for (int i = 0; i < 3; i++) {
            get(nodes[i].registerBroker("127.0.0.1", 9090 + i));
        }
        get(nodes[proposer].createTopic("before", 1, -1, Map.of()));
        awaitSameImage("the first topic everywhere");

        // by log: a few entries while it is down (fewer than a snapshot's worth)
        stop(lagging);
        get(nodes[proposer].createTopic("while-down", 2, 2, Map.of()));
        get(nodes[proposer].allocateProducerIdBlock());
        start(lagging);
        awaitSameImage("the restarted node caught up from the log");
        assertNotNull(nodes[lagging].image().topic("while-down"));
        assertEquals(0, nodes[lagging].stateMachine().snapshotsInstalled());

        // by snapshot: enough entries while it is down that the others snapshot and purge past it
        stop(lagging);
        long missedFrom = nodes[proposer].appliedIndex();
        int leaderNow = leader();
        for (int n = 0; n < 300; n++) {
            get(nodes[proposer].allocateProducerIdBlock());
        }
        get(nodes[proposer].createTopic("after-purge", 3, -1, Map.of("cleanup.policy", "delete")));
        get(nodes[proposer].registerBroker("127.0.0.1", 19999)); // re-registered with a new port while it is down
        MetadataQuorum l = nodes[leaderNow];
        await(() -> {
            try {
                return l.server().getDivision(MetadataQuorum.GROUP_ID).getRaftLog().getStartIndex() > missedFrom + 1;
            } catch (IOException e) {
                return false;
            }
        }, "the leader's log purged past what the stopped node has");
        start(lagging);
        awaitSameImage("the restarted node caught up by snapshot install");
        assertTrue(nodes[lagging].stateMachine().snapshotsInstalled() >= 1,
            "expected a snapshot install on node " + (lagging + 1));
        assertEquals(3, nodes[lagging].image().topic("after-purge").partitions().size());
        // the brokers came with the snapshot (format version 2), the latest registration per node
        assertEquals(3, nodes[lagging].image().brokers().size());
        assertEquals(new ClusterImage.BrokerState(proposer + 1, "127.0.0.1", 19999),
            nodes[lagging].image().broker(proposer + 1));

        // and it restarts from its own snapshot + log
        ClusterImage expected = nodes[lagging].image();
        stop(lagging);
        start(lagging);
        await(() -> nodes[lagging].image().equals(expected), "the node's own snapshot + log reloaded");
    }
}
