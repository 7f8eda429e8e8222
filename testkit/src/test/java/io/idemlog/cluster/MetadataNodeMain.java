package io.idemlog.cluster;

import io.idemlog.server.cluster.ClusterConfig;
import io.idemlog.server.cluster.MetadataQuorum;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM for {@link MetadataQuorumKillTest}: one metadata-group member that allocates producer-id blocks in a
 * loop and prints {@code BLOCK first size} for each one it got (after its future completed: an acknowledged block),
 * {@code ROLE leader|follower} on every change, {@code READY} once started. Stops when {@code stopFile} exists or
 * after 180 s. Arguments: {@code nodeId voters raftDir stopFile}.
 */
public final class MetadataNodeMain {
    /**
     * The server's default replication.election.timeout.ms. It was 300 ms: the fresh-clone .ci/run of 95956c8 saw
     * node 1 re-learn "metadata leader now n2" every 1-7 s for 90 s (elections that stall-prone JVMs on 2 shared
     * cores kept losing) and the test time out waiting for its blocks.
     */
    private static final long ELECTION_TIMEOUT_MS = 1000;
    private MetadataNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        int nodeId = Integer.parseInt(args[0]);
        ClusterConfig config = ClusterConfig.parse(nodeId, true, args[1], null, null, ELECTION_TIMEOUT_MS,
            Path.of(args[2]));
        Path stop = Path.of(args[3]);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        try (MetadataQuorum q = MetadataQuorum.start(config)) {
            System.out.println("READY " + nodeId);
            String role = "";
            for (int i = 0; i < 1_000_000 && !Files.exists(stop) && System.nanoTime() < deadline; i++) {
                String now = q.isLeader() ? "leader" : "follower";
                if (!now.equals(role)) {
                    role = now;
                    System.out.println("ROLE " + role);
                }
                try {
                    MetadataQuorum.ProducerIdBlock b = q.allocateProducerIdBlock().get(30, TimeUnit.SECONDS);
                    System.out.println("BLOCK " + b.firstId() + " " + b.size());
                } catch (Exception e) {
                    System.out.println("ERROR " + e);
                }
            }
            System.out.println("STOPPING " + nodeId);
        }
        System.exit(0);
    }
}
