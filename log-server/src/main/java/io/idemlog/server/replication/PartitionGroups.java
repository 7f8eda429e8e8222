package io.idemlog.server.replication;

import io.idemlog.server.cluster.ClusterConfig;
import io.idemlog.server.cluster.ClusterNode;
import io.idemlog.server.log.DedupConfig;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import io.idemlog.server.log.ReplicaStorage;
import org.agrona.concurrent.EpochClock;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.statemachine.StateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * This node's partition groups (docs/REPLICATION.md 4.1): one Ratis group per partition replica hosted here, all on
 * the node's ONE {@link RaftServer} (the one {@link io.idemlog.server.cluster.MetadataQuorum} starts: multi-raft).
 *
 * <p>Life cycle: construct, pass {@link #registry()} to {@code MetadataQuorum.start} (Ratis asks it for the state
 * machine of every non-metadata group, also of the groups it recovers from storage at start: their state machines
 * read their {@link PartitionDescriptor} from their own directory), then {@link #attach} the started server. The
 * node's metadata listener calls {@link #ensure}/{@link #remove} for the assignments naming this node (pull: no
 * fan-out RPC; a node that was down converges from the metadata log). Close after the Raft server is closed.
 *
 * <p>Group id: the name-based UUID of (topic id, partition), the same on every node.
 */
public final class PartitionGroups implements ClusterNode.Replicas, AutoCloseable {
    /** The Raft priority of a partition's first (preferred) replica; the others have 0. */
    static final int PREFERRED_PRIORITY = 1;

    private static final Logger LOG = LoggerFactory.getLogger(PartitionGroups.class);

    /** Told when this node's division of a partition group becomes a READY leader (Ratis notifyLeaderReady). */
    @FunctionalInterface
    public interface LeaderListener {
        void onLeaderReady(UUID topicId, int partition, int term);
    }

    private final ClusterConfig config;
    private final EpochClock clock;
    private final ReplicaStorage storage;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    /** Descriptors of groups {@link #ensure} is creating, for the registry to hand to their state machines. */
    private final Map<RaftGroupId, PartitionDescriptor> creating = new ConcurrentHashMap<>();
    private final Map<String, ReplicatedPartition> byName = new ConcurrentHashMap<>();
    private final Map<RaftGroupId, ReplicatedPartition> byGroup = new ConcurrentHashMap<>();
    private final ScheduledExecutorService ticks;
    private volatile RaftServer server;
    private volatile LeaderListener leaderListener = (id, p, t) -> { };
    private volatile long appendTimeoutMs = 30_000L;
    /** Told when a hosted partition's high watermark moves (the long-polling fetches); null = nobody. */
    private volatile io.idemlog.server.log.HighWatermarkListener highWatermarkListener;
    /** replica.lag.time.max.ms: a follower silent for longer is not in sync (min.insync.replicas). */
    private volatile long replicaLagTimeMaxMs = 30_000L;
    /** A partition's effective min.insync.replicas (topic config over the broker's). */
    private volatile java.util.function.ToIntFunction<PartitionDescriptor> minInsync;

    /**
     * @param logConfig      the storage settings of every partition hosted here
     * @param tickIntervalMs how often a leader proposes a tick entry (producer and de-duplication key expiry, in
     *                       log order with the leader's time); 0: never
     */
    public PartitionGroups(ClusterConfig config, LogConfig logConfig, EpochClock clock, long tickIntervalMs) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.storage = new ReplicaStorage(logConfig, clock, this::onStorageHighWatermark);
        this.minInsync = d -> config.minInsyncReplicas();
        this.topicConfigs = d -> logConfig;
        ticks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idemlog-partition-ticks-" + config.nodeId());
            t.setDaemon(true);
            return t;
        });
        if (tickIntervalMs > 0) {
            ticks.scheduleWithFixedDelay(this::tick, tickIntervalMs, tickIntervalMs, TimeUnit.MILLISECONDS);
        }
        ticks.scheduleWithFixedDelay(this::watchFollowers, 1000, 1000, TimeUnit.MILLISECONDS);
        long retentionCheckMs = logConfig.retentionCheckIntervalMs();
        if (retentionCheckMs > 0) {
            ticks.scheduleWithFixedDelay(this::retention, retentionCheckMs, retentionCheckMs, TimeUnit.MILLISECONDS);
        }
    }

    /** Every second: each partition this node leads looks for a follower that answers but never catches up. */
    private void watchFollowers() {
        long now = TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
        for (ReplicatedPartition p : byGroup.values()) {
            try {
                p.checkFollowers(now);
            } catch (RuntimeException e) {
                LOG.debug("{}: follower check failed", p, e);
            }
        }
    }

    /**
     * A partition's effective settings (its topic's config over the broker's): what its leader proposes as the
     * partition's config entry ({@link ReplicatedConfig}) and what retention uses ({@link #retention}).
     */
    private volatile Function<PartitionDescriptor, LogConfig> topicConfigs;

    /**
     * The settings per partition: its topic's configs over the server's (default: the server's); null when this
     * node's metadata does not know the topic (yet): nothing is proposed or retained for it then.
     */
    public void setTopicConfigs(Function<PartitionDescriptor, LogConfig> configs) {
        this.topicConfigs = Objects.requireNonNull(configs, "configs");
    }

    /** The metadata group's applied index here: the version of the settings {@link #setTopicConfigs} gives. */
    private volatile java.util.function.LongSupplier metadataIndex = () -> -1L;

    public void setMetadataIndex(java.util.function.LongSupplier index) {
        this.metadataIndex = Objects.requireNonNull(index, "index");
    }

    /**
     * The leader of the partition (if this node leads it) proposes its topic's settings as a config entry when they
     * are not those in force (a topic config change, or a group without one yet); nothing otherwise. Called by the
     * cluster node at each reconciliation pass, and here when a leader becomes ready.
     */
    @Override
    public void configure(String topic, int index) {
        ReplicatedPartition p = byName.get(key(topic, index));
        if (p != null) {
            proposeConfig(p);
        }
    }

    private void proposeConfig(ReplicatedPartition p) {
        try {
            long version = metadataIndex.getAsLong(); // read first: a lower bound of the image the configs come from
            LogConfig c = topicConfigs.apply(p.descriptor());
            if (c != null) {
                p.proposeConfig(ReplicatedConfig.of(c, version));
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: cannot propose its topic settings", p, e);
        }
    }

    /**
     * Every log.retention.check.interval.ms: each partition this node leads proposes the log start offset its
     * retention settings ask for, as an entry ({@link ReplicatedPartition#proposeRetention}); the replicas apply it.
     */
    private void retention() {
        long now = clock.time();
        for (ReplicatedPartition p : byGroup.values()) {
            try {
                // every replica: segments below the log start whose seal was pending when the entry was applied
                p.stateMachine().removeBelowLogStart();
                LogConfig c = topicConfigs.apply(p.descriptor());
                if (c == null) {
                    continue;
                }
                p.proposeRetention(now, c.retentionMs(), c.retentionBytes());
            } catch (RuntimeException e) {
                LOG.warn("{}: retention check failed", p, e);
            }
        }
    }

    /** The group id of a partition: the same on every node. */
    public static RaftGroupId groupId(UUID topicId, int partition) {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("idemlog-partition-" + topicId + "-" + partition)
            .getBytes(StandardCharsets.UTF_8)));
    }

    /** What MetadataQuorum's Raft server asks for every non-metadata group (created or recovered). */
    public Function<RaftGroupId, StateMachine> registry() {
        return id -> new PartitionStateMachine(this, clock, creating.get(id));
    }

    /** The started Raft server hosting the groups (MetadataQuorum's). */
    public void attach(RaftServer raftServer) {
        this.server = Objects.requireNonNull(raftServer, "raftServer");
    }

    public void setLeaderListener(LeaderListener listener) {
        this.leaderListener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Who is told when a hosted partition's high watermark moves, with the partition as the handlers know it (the
     * {@link ReplicatedPartition}, not its storage): the broker's long-polling fetches wake on it.
     */
    public void setHighWatermarkListener(io.idemlog.server.log.HighWatermarkListener listener) {
        this.highWatermarkListener = listener;
    }

    /** The storage's flusher thread: a replica's segment group commit moved its high watermark. */
    private void onStorageHighWatermark(Partition storagePartition, long highWatermark) {
        io.idemlog.server.log.HighWatermarkListener l = highWatermarkListener;
        if (l == null) {
            return;
        }
        ReplicatedPartition p = byName.get(key(storagePartition.topic(), storagePartition.index()));
        if (p != null) {
            l.onHighWatermark(p, highWatermark);
        }
    }

    /** How long a produce waits for its entry to be committed and applied before REQUEST_TIMED_OUT. */
    public void setAppendTimeoutMs(long ms) {
        this.appendTimeoutMs = ms;
    }

    long appendTimeoutMs() {
        return appendTimeoutMs;
    }

    /** replication.election.timeout.ms (Ratis's minimum election timeout; the maximum is twice it). */
    long electionTimeoutMs() {
        return config.electionTimeoutMs();
    }

    /**
     * How long a follower may go without answering its leader and still count as in sync for
     * min.insync.replicas (replica.lag.time.max.ms, Kafka's name and meaning).
     */
    public void setReplicaLagTimeMaxMs(long ms) {
        this.replicaLagTimeMaxMs = ms;
    }

    long replicaLagTimeMaxMs() {
        return replicaLagTimeMaxMs;
    }

    /** The effective min.insync.replicas of a partition's topic (default: the broker's). */
    public void setMinInsync(java.util.function.ToIntFunction<PartitionDescriptor> minInsync) {
        this.minInsync = Objects.requireNonNull(minInsync, "minInsync");
    }

    int minInsync(PartitionDescriptor d) {
        return minInsync.applyAsInt(d);
    }

    /**
     * Hosts the partition's group here if it is not yet (idempotent): adds it to the Raft server with the replicas'
     * Raft endpoints (from {@code controller.quorum.voters}) as its peers, empty storage. Returns once the group's
     * state machine is initialised; leadership follows from Ratis's election.
     *
     * @throws IOException when a replica is not a voter or Ratis refuses the group
     */
    @Override
    public synchronized void ensure(String topic, UUID topicId, int partition, List<Integer> replicas)
        throws IOException {
        RaftServer s = requireServer();
        RaftGroupId id = groupId(topicId, partition);
        for (RaftGroupId existing : s.getGroupIds()) {
            if (existing.equals(id)) {
                return;
            }
        }
        if (!replicas.contains(config.nodeId())) {
            throw new IOException("node " + config.nodeId() + " is not a replica of " + topic + "-" + partition
                + " (replicas " + replicas + ")");
        }
        List<RaftPeer> peers = new ArrayList<>();
        for (int r : replicas) {
            ClusterConfig.Voter v = voter(r);
            // The first replica is the preferred leader (Kafka's, placement rotates it per partition): Ratis hands
            // leadership to the highest-priority peer once it is up to date, so leaders spread over the nodes and
            // return to their node after it restarts, as Kafka's auto.leader.rebalance does.
            peers.add(RaftPeer.newBuilder().setId(peerId(r)).setAddress(v.address()).setClientAddress(v.address())
                .setAdminAddress(v.address()).setPriority(r == replicas.get(0) ? PREFERRED_PRIORITY : 0).build());
        }
        creating.put(id, new PartitionDescriptor(topic, topicId, partition));
        try {
            RaftClientReply reply = s.groupManagement(GroupManagementRequest.newAdd(clientId, s.getId(),
                callIds.incrementAndGet(), RaftGroup.valueOf(id, peers)));
            if (!reply.isSuccess()) {
                throw new IOException("cannot add the group of " + topic + "-" + partition + ": "
                    + reply.getException());
            }
        } finally {
            creating.remove(id);
        }
        LOG.info("node {}: partition group {} of {}-{} added with replicas {}", config.nodeId(), id, topic, partition,
            replicas);
    }

    /** Stops hosting the partition's group here and deletes its data (topic deleted, replica moved away). */
    @Override
    public synchronized void remove(UUID topicId, int partition) {
        RaftServer s = requireServer();
        RaftGroupId id = groupId(topicId, partition);
        boolean hosted = false;
        for (RaftGroupId existing : s.getGroupIds()) {
            hosted |= existing.equals(id);
        }
        if (!hosted) {
            return;
        }
        try {
            RaftClientReply reply = s.groupManagement(GroupManagementRequest.newRemove(clientId, s.getId(),
                callIds.incrementAndGet(), id, true, false));
            if (!reply.isSuccess()) {
                throw new IOException("cannot remove group " + id + ": " + reply.getException());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ReplicatedPartition gone = byGroup.remove(id);
        if (gone != null) {
            byName.remove(key(gone.topic(), gone.index()), gone);
        }
        LOG.info("node {}: partition group {} ({}-{}) removed, data deleted", config.nodeId(), id, topicId, partition);
    }

    /** The partition as hosted here, or null when this node holds no replica of it. */
    @Override
    public Partition partition(String topic, int index) {
        return byName.get(key(topic, index));
    }

    /** The partition by topic id (null when not hosted here). */
    public ReplicatedPartition partition(UUID topicId, int index) {
        return byGroup.get(groupId(topicId, index));
    }

    /** Every replica hosted here now (those ensured and those recovered from storage at start). */
    @Override
    public Set<ClusterNode.ReplicaId> hosted() {
        Set<ClusterNode.ReplicaId> ids = new HashSet<>();
        for (ReplicatedPartition p : byGroup.values()) {
            ids.add(new ClusterNode.ReplicaId(p.descriptor().topicId(), p.descriptor().partition()));
        }
        return ids;
    }

    /** Every partition hosted here. */
    public List<ReplicatedPartition> partitions() {
        return List.copyOf(byGroup.values());
    }

    // ---------------------------------------------------------------------------------------------- callbacks

    /** A state machine finished initialize (created by ensure, or recovered at start). */
    void hosted(PartitionStateMachine sm) {
        PartitionDescriptor d = sm.descriptor();
        ReplicatedPartition p = new ReplicatedPartition(this, sm, config.nodeId());
        byGroup.put(sm.getGroupId(), p);
        byName.put(key(d.topic(), d.partition()), p);
    }

    void closed(PartitionStateMachine sm) {
        ReplicatedPartition p = byGroup.get(sm.getGroupId());
        if (p != null && p.stateMachine() == sm) {
            byGroup.remove(sm.getGroupId(), p);
            byName.remove(key(p.topic(), p.index()), p);
        }
    }

    void leaderReady(PartitionStateMachine sm) {
        ReplicatedPartition p = byGroup.get(sm.getGroupId());
        if (p != null && p.stateMachine() == sm) {
            proposeConfig(p); // before anything else this leader proposes: a first config entry if none applied
        }
        notifyLeader(sm);
    }

    /**
     * A config entry was applied (updater thread): a leader that was waiting for its first one takes the role now,
     * so the cluster node is told (it announces the leader in the metadata only once it has the role).
     */
    void configApplied(PartitionStateMachine sm) {
        RaftServer s = sm.raftServer();
        try {
            if (s != null && s.getDivision(sm.getGroupId()).getInfo().isLeader()) {
                notifyLeader(sm);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: config applied, division not found", sm, e);
        }
    }

    private void notifyLeader(PartitionStateMachine sm) {
        PartitionDescriptor d = sm.descriptor();
        int term;
        try {
            term = (int) sm.raftServer().getDivision(sm.getGroupId()).getInfo().getCurrentTerm();
        } catch (Exception e) {
            LOG.warn("{}: leader ready, but its term is unknown", sm, e);
            return;
        }
        try {
            leaderListener.onLeaderReady(d.topicId(), d.partition(), term);
        } catch (RuntimeException e) {
            LOG.warn("{}: leader listener failed", sm, e);
        }
    }

    /**
     * The de-duplication setting a replica without a replicated config (a group written before config entries)
     * loads with: its topic's, else the server's log.dedup.*.
     */
    DedupConfig dedupFor(PartitionDescriptor d) {
        LogConfig c = topicConfigs.apply(d);
        return c != null ? c.dedup() : storage.config().dedup();
    }

    ReplicaStorage storage() {
        return storage;
    }

    ClientId clientId() {
        return clientId;
    }

    long nextCallId() {
        return callIds.incrementAndGet();
    }

    private void tick() {
        for (ReplicatedPartition p : byGroup.values()) {
            try {
                if (p.role() == PartitionRole.LEADER) {
                    p.tick();
                }
            } catch (RuntimeException e) {
                LOG.debug("{}: tick failed", p, e);
            }
        }
    }

    private RaftServer requireServer() {
        RaftServer s = server;
        if (s == null) {
            throw new IllegalStateException("PartitionGroups.attach(server) was not called");
        }
        return s;
    }

    private ClusterConfig.Voter voter(int nodeId) throws IOException {
        for (ClusterConfig.Voter v : config.voters()) {
            if (v.id() == nodeId) {
                return v;
            }
        }
        throw new IOException("replica " + nodeId + " is not among controller.quorum.voters " + config.voters());
    }

    static RaftPeerId peerId(int nodeId) {
        return RaftPeerId.valueOf("n" + nodeId);
    }

    /** The node id of a peer id ({@code n<id>}), or -1. */
    static int nodeIdOf(RaftPeerId peer) {
        if (peer == null) {
            return -1;
        }
        String s = peer.toString();
        try {
            return s.startsWith("n") ? Integer.parseInt(s.substring(1)) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String key(String topic, int index) {
        return topic + '\0' + index;
    }

    /** Stops the tick thread and the storage threads; call after the Raft server (and so every group) closed. */
    @Override
    public void close() throws IOException {
        ticks.shutdownNow();
        storage.close();
    }
}
