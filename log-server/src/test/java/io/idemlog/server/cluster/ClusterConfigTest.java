package io.idemlog.server.cluster;

import io.idemlog.server.config.ConfigException;
import io.idemlog.server.config.ServerConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterConfigTest {
    private static final String VOTERS = "1@127.0.0.1:19191,2@127.0.0.1:19192,3@127.0.0.1:19193";

    private static Map<String, String> props(String... kv) {
        Map<String, String> m = new HashMap<>();
        m.put("log.dirs", "/tmp/idemlog-cluster-config-test");
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static void assertRefused(String expected, String... kv) {
        ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.of(props(kv)));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void withoutVotersNothingChanges() {
        ServerConfig c = ServerConfig.of(props());
        assertNull(c.cluster);
        assertEquals(1, c.nodeId);
        // Kafka's single-broker values are accepted as they are
        assertNull(ServerConfig.of(props("default.replication.factor", "1", "min.insync.replicas", "1")).cluster);
    }

    @Test
    void parsesAThreeNodeCluster() {
        ServerConfig c = ServerConfig.of(props("node.id", "2", "controller.quorum.voters", VOTERS));
        ClusterConfig cl = c.cluster;
        assertEquals(2, cl.nodeId());
        assertEquals(List.of(new ClusterConfig.Voter(1, "127.0.0.1", 19191), new ClusterConfig.Voter(2, "127.0.0.1",
            19192), new ClusterConfig.Voter(3, "127.0.0.1", 19193)), cl.voters());
        assertEquals(new ClusterConfig.Voter(2, "127.0.0.1", 19192), cl.self());
        assertEquals(3, cl.defaultReplicationFactor());
        assertEquals(2, cl.minInsyncReplicas());
        assertEquals(1000, cl.electionTimeoutMs());
        assertEquals(Path.of("/tmp/idemlog-cluster-config-test/raft"), cl.raftDir());
        ClusterConfig custom = ServerConfig.of(props("broker.id", "1", "controller.quorum.voters", VOTERS,
            "default.replication.factor", "2", "min.insync.replicas", "1", "replication.election.timeout.ms", "500",
            "replication.dir", "/tmp/r")).cluster;
        assertEquals(2, custom.defaultReplicationFactor());
        assertEquals(1, custom.minInsyncReplicas());
        assertEquals(500, custom.electionTimeoutMs());
        assertEquals(Path.of("/tmp/r"), custom.raftDir());
        assertEquals(0, custom.listenPort());
        assertEquals(19191, custom.bindPort(), "without replication.listen.port: the voters entry's port");
        // a node behind a forwarder: the others reach it at its voters entry, it binds another port
        ClusterConfig behind = ServerConfig.of(props("node.id", "3", "controller.quorum.voters", VOTERS,
            "replication.listen.port", "29193")).cluster;
        assertEquals(new ClusterConfig.Voter(3, "127.0.0.1", 19193), behind.self());
        assertEquals(29193, behind.bindPort());
        // a one-node "cluster": RF 1, min.insync 1
        ClusterConfig one = ServerConfig.of(props("node.id", "7", "controller.quorum.voters", "7@127.0.0.1:1")).cluster;
        assertEquals(1, one.defaultReplicationFactor());
        assertEquals(1, one.minInsyncReplicas());
    }

    @Test
    void refusesBadClusterSettingsWithClearTexts() {
        assertRefused("node.id=4 is not among controller.quorum.voters (ids [1, 2, 3])",
            "node.id", "4", "controller.quorum.voters", VOTERS);
        assertRefused("every node of a cluster must set its own node.id", "controller.quorum.voters", VOTERS);
        assertRefused("node id 2 appears twice", "node.id", "1",
            "controller.quorum.voters", "1@127.0.0.1:1,2@127.0.0.1:2,2@127.0.0.1:3");
        assertRefused("endpoint 127.0.0.1:2 appears twice", "node.id", "1",
            "controller.quorum.voters", "1@127.0.0.1:2,2@127.0.0.1:2");
        assertRefused("'1@127.0.0.1' : expected host:port".replace("' :", "':"), "node.id", "1",
            "controller.quorum.voters", "1@127.0.0.1");
        assertRefused("'1@127.0.0.1:x': bad port", "node.id", "1", "controller.quorum.voters", "1@127.0.0.1:x");
        assertRefused("'1@127.0.0.1:70000': port must be in [1, 65535]", "node.id", "1",
            "controller.quorum.voters", "1@127.0.0.1:70000");
        assertRefused("'x@127.0.0.1:1': the id before '@' is not a number", "node.id", "1",
            "controller.quorum.voters", "x@127.0.0.1:1");
        assertRefused("'127.0.0.1:1' must be id@host:port", "node.id", "1", "controller.quorum.voters", "127.0.0.1:1");
        assertRefused("not a wildcard", "node.id", "1", "controller.quorum.voters", "1@0.0.0.0:1");
        assertRefused("empty entry", "node.id", "1", "controller.quorum.voters", "1@127.0.0.1:1,");
        assertRefused("default.replication.factor=4 is above the number of nodes in controller.quorum.voters (3)",
            "node.id", "1", "controller.quorum.voters", VOTERS, "default.replication.factor", "4");
        assertRefused("min.insync.replicas=3 is above default.replication.factor=2",
            "node.id", "1", "controller.quorum.voters", VOTERS, "default.replication.factor", "2",
            "min.insync.replicas", "3");
        assertRefused("replication.election.timeout.ms=10: must be in [50, 600000]", "node.id", "1",
            "controller.quorum.voters", VOTERS, "replication.election.timeout.ms", "10");
        assertRefused("replication.listen.port=0: must be in [1, 65535]", "node.id", "1",
            "controller.quorum.voters", VOTERS, "replication.listen.port", "0");
        assertRefused("replication.listen.port needs a cluster", "replication.listen.port", "29191");
        assertRefused("default.replication.factor=3 needs a cluster", "default.replication.factor", "3");
        assertRefused("min.insync.replicas=2 needs a cluster", "min.insync.replicas", "2");
    }

    @Test
    void aServerWithVotersRunsInClusterModeWithoutOpeningSingleNodeStorage(@org.junit.jupiter.api.io.TempDir Path dir)
        throws Exception {
        int raftPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            raftPort = s.getLocalPort();
        }
        ServerConfig c = ServerConfig.of(Map.of("log.dirs", dir.toString(), "listeners", "PLAINTEXT://127.0.0.1:0",
            "node.id", "5", "controller.quorum.voters", "5@127.0.0.1:" + raftPort,
            "replication.election.timeout.ms", "200"));
        try (io.idemlog.server.IdemlogServer server = io.idemlog.server.IdemlogServer.start(c, (d, cfg, l) -> {
            throw new AssertionError("cluster mode must not open the single-node storage");
        })) {
            MetadataQuorum q = server.metadataQuorum();
            assertInstanceOf(ClusterLogStore.class, server.logs());
            ClusterImage.TopicState t = q.createTopic("t", 2, -1, Map.of()).get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(List.of(5), t.partitions().get(1).replicas());
            assertTrue(java.nio.file.Files.isDirectory(dir.resolve("raft")));
            // the node registers itself, hosts both partitions and leads them (one voter), and says so in the image
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
                while (q.image().broker(5) == null || q.image().topic("t").partitions().stream()
                    .anyMatch(p -> p.leaderEpoch() == 0)) {
                    java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L); // poll, not a synchronisation
                }
            });
            assertEquals(server.port(), q.image().broker(5).port());
            assertTrue(server.logs().partition("t", 0) != null && server.logs().partition("t", 1) != null);
        }
    }
}
