package io.idemlog.server.cluster;

import io.idemlog.server.metadata.MetadataRecord;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * This node's member of the replicated metadata group: a Ratis server (gRPC on the node's
 * {@code controller.quorum.voters} endpoint) hosting the {@link MetadataStateMachine}, and a Ratis client through
 * which any node proposes (the client finds and follows the leader). A proposal's future completes once the entry
 * is committed AND applied on this node, so the caller's next {@link #image()} shows it.
 *
 * <p>What needs randomness (a topic id) or a choice (the replica assignment) is decided here, by the proposer, and
 * carried in the entry: apply stays a pure function of the log.
 */
public final class MetadataQuorum implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataQuorum.class);
    /** The metadata group's id, the same on every node. */
    public static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(
        UUID.nameUUIDFromBytes("idemlog-metadata-group".getBytes(StandardCharsets.UTF_8)));
    /** Producer ids per block (ProducerIdAllocator's block size on a single node). */
    public static final int PRODUCER_ID_BLOCK = 1000;

    /** A refused proposal (the entry was committed but did not fit the image): the same answer on every node. */
    public static final class RefusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    /** A block of producer ids, {@code [firstId, firstId + size)}, owned by the node that asked for it. */
    public record ProducerIdBlock(long firstId, int size) {
        public long endId() {
            return firstId + size;
        }
    }

    private final ClusterConfig config;
    private final RaftGroup group;
    private final MetadataStateMachine stateMachine = new MetadataStateMachine();
    private final RaftServer server;
    private final RaftClient client;
    /** Image listeners (see {@link #addImageListener}), run on {@link #listenerThread}, never on Ratis's. */
    private final List<Consumer<ClusterImage>> imageListeners = new CopyOnWriteArrayList<>();
    private final ExecutorService listenerThread;
    private final AtomicBoolean listenerRunPending = new AtomicBoolean();

    private MetadataQuorum(ClusterConfig config, RaftProperties props,
                           Function<RaftGroupId, StateMachine> partitionGroups) throws IOException {
        this.config = config;
        List<RaftPeer> peers = new ArrayList<>();
        for (ClusterConfig.Voter v : config.voters()) {
            peers.add(RaftPeer.newBuilder().setId(peerId(v.id())).setAddress(v.address())
                .setClientAddress(v.address()).setAdminAddress(v.address()).build());
        }
        group = RaftGroup.valueOf(GROUP_ID, peers);
        listenerThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "idemlog-metadata-listener-" + config.nodeId());
            t.setDaemon(true);
            return t;
        });
        stateMachine.setImageHook(this::scheduleListeners);
        server = RaftServer.newBuilder().setServerId(peerId(config.nodeId())).setProperties(props)
            .setOption(RaftStorage.StartupOption.RECOVER)
            .setStateMachineRegistry(id -> {
                if (id.equals(GROUP_ID)) {
                    return stateMachine;
                }
                if (partitionGroups == null) {
                    throw new IllegalArgumentException("no state machine for group " + id + " (this server hosts "
                        + "only the metadata group)");
                }
                return partitionGroups.apply(id);
            })
            .build();
        RaftClient c = null;
        try {
            server.start();
            Set<RaftGroupId> existing = new HashSet<>();
            server.getGroupIds().forEach(existing::add);
            if (!existing.contains(GROUP_ID)) {
                RaftClientReply reply = server.groupManagement(GroupManagementRequest.newAdd(ClientId.randomId(),
                    peerId(config.nodeId()), 1, group));
                if (!reply.isSuccess()) {
                    throw new IOException("cannot add the metadata group: " + reply.getException());
                }
                LOG.info("node {}: metadata group {} created (empty) with voters {}", config.nodeId(), GROUP_ID,
                    config.voters());
            } else {
                LOG.info("node {}: metadata group {} recovered from {}", config.nodeId(), GROUP_ID, config.raftDir());
            }
            c = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group)
                .setClientId(ClientId.randomId())
                .setRetryPolicy(RetryPolicies.retryForeverWithSleep(TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                .build();
        } catch (IOException | RuntimeException e) {
            server.close();
            listenerThread.shutdownNow();
            throw e;
        }
        client = c;
    }

    static RaftPeerId peerId(int nodeId) {
        return RaftPeerId.valueOf("n" + nodeId);
    }

    /**
     * Ratis properties for the metadata group: storage, this node's gRPC endpoint, election timeout, and the
     * settings docs/REPLICATION.md §3 found necessary (a SIGKILL's torn Raft log tail is truncated, not fatal).
     *
     * @param snapshotEveryEntries take a snapshot (and purge the log up to it) after this many applied entries
     */
    public static RaftProperties properties(ClusterConfig config, long snapshotEveryEntries) {
        return properties(config, snapshotEveryEntries, DEFAULT_MAX_ENTRY_BYTES);
    }

    /** message.max.bytes' default (1 MiB + 12), the largest batch a partition group's entry carries by default. */
    public static final int DEFAULT_MAX_ENTRY_BYTES = 1_048_588;

    /**
     * {@link #properties(ClusterConfig, long)} for a server that also hosts partition groups whose entries carry
     * batches up to {@code maxEntryBytes} (message.max.bytes): Ratis refuses an entry above its appender's byte
     * limit ("Log entry size ... exceeds the max buffer limit"), so the limit is twice that (REPLICATION.md section
     * 6) and the log's write buffer the limit + 8.
     */
    public static RaftProperties properties(ClusterConfig config, long snapshotEveryEntries, int maxEntryBytes) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(config.raftDir().toFile()));
        ClusterConfig.Voter self = config.self();
        GrpcConfigKeys.Server.setHost(p, self.host());
        GrpcConfigKeys.Server.setPort(p, config.bindPort());
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(config.electionTimeoutMs(),
            TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2 * config.electionTimeoutMs(),
            TimeUnit.MILLISECONDS));
        // §3.2: with the default (EXCEPTION) a node SIGKILLed during a Raft log write never starts again; the torn
        // entry was never fsync'd, so never acknowledged: truncating it is safe
        RaftServerConfigKeys.Log.setCorruptionPolicy(p, RaftServerConfigKeys.Log.CorruptionPolicy.WARN_AND_RETURN);
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotEveryEntries);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, 1);
        // Keep the last snapshotEveryEntries entries below a snapshot in the Raft log: a follower a little behind
        // (a node restarted after seconds) then catches up by log instead of by a snapshot install, which ships
        // every segment file of the partition and, in Ratis 3.3.0, can race with AppendEntries already in flight
        // to that follower: its log worker then stops on "lastWrittenIndex == <snapshot>, entry == <snapshot + k>"
        // and the division closes for good (ClusterFailoverTest in a fresh-clone run, 2026-12-07;
        // docs/REPLICATION.md 8). Costs at most that many more entries of Raft log on disk per group.
        RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, snapshotEveryEntries);
        // Metadata entries are tiny, partition entries up to a batch (+ the entry header and Ratis's framing):
        // the buffers fit the largest batch twice over; segments stay small enough that a purge removes them.
        long byteLimit = Math.max(512L << 10, 2L * (maxEntryBytes + 1024L));
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(byteLimit));
        RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(byteLimit + 8));
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(Math.max(1L << 20, 2 * byteLimit)));
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, appenderRetryPolicy(config.electionTimeoutMs()));
        return p;
    }

    /**
     * How long a leader's log appender waits after each failed or refused AppendEntries to one follower, as Ratis's
     * "sleep,count" pairs (each sleep drawn from [0.5, 1.5] times the value). Ratis's default, {@code 1ms,10, 1s,20,
     * 5s,1000}, made a follower that had failed 10 times (its node down, restarting, or not yet hosting a new
     * group: "group not found") wait 0.5-1.5 s and after 30 failures 2.5-7.5 s for its first entry once it could
     * take it. A follower that has never received an entry does not count as a vote for a candidate that has
     * commits (Ratis's LeaderElection rejects empty-log voters), so for that long the loss of the leader left the
     * two survivors unable to elect (docs/REPLICATION.md 4.9, LateReplicaTest). Here the wait never exceeds a
     * quarter of the election timeout (at least 50 ms; 5 attempts a second per group to a node that is down).
     */
    static String appenderRetryPolicy(long electionTimeoutMs) {
        long cap = Math.max(50L, electionTimeoutMs / 4);
        return "1ms,10, 50ms,20, " + cap + "ms," + Integer.MAX_VALUE;
    }

    /** Starts (or recovers) this node's member of the metadata group. */
    public static MetadataQuorum start(ClusterConfig config, RaftProperties props) throws IOException {
        return new MetadataQuorum(config, props, null);
    }

    /**
     * Starts (or recovers) this node's Raft server hosting the metadata group and the partition groups: Ratis asks
     * {@code partitionGroups} (PartitionGroups.registry()) for the state machine of every other group, the ones
     * added later and the ones it recovers from storage during this call.
     */
    public static MetadataQuorum start(ClusterConfig config, RaftProperties props,
                                       Function<RaftGroupId, StateMachine> partitionGroups) throws IOException {
        return new MetadataQuorum(config, props, java.util.Objects.requireNonNull(partitionGroups, "partitionGroups"));
    }

    /** {@link #start(ClusterConfig, RaftProperties, Function)} with the default properties. */
    public static MetadataQuorum start(ClusterConfig config, Function<RaftGroupId, StateMachine> partitionGroups)
        throws IOException {
        return start(config, properties(config, 1000), partitionGroups);
    }

    public static MetadataQuorum start(ClusterConfig config) throws IOException {
        return start(config, properties(config, 1000));
    }

    /** The metadata as applied on this node so far (immutable; may lag the leader by the entries in flight). */
    public ClusterImage image() {
        return stateMachine.image();
    }

    MetadataStateMachine stateMachine() {
        return stateMachine;
    }

    /** This node's Raft server: it hosts the metadata group and every partition group of this node. */
    public RaftServer server() {
        return server;
    }

    public int nodeId() {
        return config.nodeId();
    }

    /** Whether this node is the metadata group's leader right now. */
    public boolean isLeader() {
        try {
            return server.getDivision(GROUP_ID).getInfo().isLeader();
        } catch (IOException e) {
            return false;
        }
    }

    /** The node id of the metadata group's leader as this node knows it, or -1 when it knows none. */
    public int leaderId() {
        try {
            RaftPeerId id = server.getDivision(GROUP_ID).getInfo().getLeaderId();
            if (id == null || !id.toString().startsWith("n")) {
                return -1;
            }
            return Integer.parseInt(id.toString().substring(1));
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** The entry applied on this node up to now. */
    public long appliedIndex() {
        return stateMachine.getLastAppliedTermIndex().getIndex();
    }

    /**
     * Creates a topic with {@code partitions} partitions, each on {@code replicationFactor} nodes (-1: the default)
     * placed round-robin from a start that rotates per partition; completes with the topic as applied here.
     */
    public CompletableFuture<ClusterImage.TopicState> createTopic(String name, int partitions, int replicationFactor,
                                                                  Map<String, String> configs) {
        int rf = replicationFactor < 0 ? config.defaultReplicationFactor() : replicationFactor;
        List<ClusterConfig.Voter> voters = config.voters();
        if (partitions < 1 || rf < 1 || rf > voters.size()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("cannot place " + partitions
                + " partitions with replication factor " + rf + " on " + voters.size() + " nodes"));
        }
        UUID id = UUID.randomUUID();
        return propose(ClusterImage.createTopic(name, id, configs, place(name, 0, partitions, rf, voters)))
            .thenApply(img -> img.topic(name));
    }

    /** Round-robin placement of partitions {@code from..from+count-1}, from a start that rotates per partition. */
    private static List<List<Integer>> place(String topic, int from, int count, int rf,
                                             List<ClusterConfig.Voter> voters) {
        int start = Math.floorMod(topic.hashCode(), voters.size());
        List<List<Integer>> assignment = new ArrayList<>();
        for (int p = from; p < from + count; p++) {
            List<Integer> replicas = new ArrayList<>();
            for (int r = 0; r < rf; r++) {
                replicas.add(voters.get((start + p + r) % voters.size()).id());
            }
            assignment.add(replicas);
        }
        return assignment;
    }

    /**
     * CreatePartitions: the topic grows from its {@code current} partitions to {@code totalCount}, the new ones placed
     * as {@link #createTopic} places them, with the replication factor of its existing partitions; refused when the
     * topic no longer has {@code current} partitions at apply. Completes with the topic as applied here.
     */
    public CompletableFuture<ClusterImage.TopicState> addPartitions(ClusterImage.TopicState topic, int totalCount) {
        int current = topic.partitions().size();
        int rf = topic.partitions().get(0).replicas().size();
        List<ClusterConfig.Voter> voters = config.voters();
        if (totalCount <= current || rf > voters.size()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("cannot grow " + topic.name()
                + " from " + current + " to " + totalCount + " partitions with replication factor " + rf));
        }
        return propose(ClusterImage.partitionsAdded(topic.id(), current,
            place(topic.name(), current, totalCount - current, rf, voters)))
            .thenApply(img -> img.topic(topic.name()));
    }

    /** Replaces a topic's config overrides. */
    public CompletableFuture<ClusterImage> replaceConfigs(UUID topicId, Map<String, String> configs) {
        return propose(ClusterImage.topicRecord(new MetadataRecord.ConfigsReplaced(topicId, configs)));
    }

    /** Deletes a topic (its assignments go with it). */
    public CompletableFuture<ClusterImage> deleteTopic(UUID topicId) {
        return propose(ClusterImage.topicRecord(new MetadataRecord.TopicDeleted(topicId)));
    }

    /** Records a partition's new leader; refused unless the epoch is above the current one. */
    public CompletableFuture<ClusterImage> changeLeader(UUID topicId, int partition, int leader, int leaderEpoch) {
        return propose(ClusterImage.leaderChanged(topicId, partition, leader, leaderEpoch));
    }

    /**
     * Allocates a block of {@link #PRODUCER_ID_BLOCK} producer ids for this node. Blocks are cut in log order, so no
     * two blocks overlap whoever asks and whatever the leader changes; a proposal retried across a leader change
     * may waste a block, never repeat one.
     */
    public CompletableFuture<ProducerIdBlock> allocateProducerIdBlock() {
        int size = PRODUCER_ID_BLOCK;
        CompletableFuture<ProducerIdBlock> out = new CompletableFuture<>();
        send(ClusterImage.producerIdBlock(config.nodeId(), size)).whenComplete((reply, e) -> {
            if (e != null) {
                out.completeExceptionally(e);
            } else {
                out.complete(new ProducerIdBlock(reply.value, size));
            }
        });
        return out;
    }

    /**
     * A named producer's InitProducerId, decided in the metadata group's log (the same id at the next epoch block,
     * cluster-wide); completes once applied here, with the identity, or exceptionally (refused, no quorum).
     *
     * @throws IllegalArgumentException when the name is empty or too long
     */
    public CompletableFuture<io.idemlog.server.state.ProducerIdentities.Identity> initNamedProducer(String name,
                                                                                                    int maxNames) {
        byte[] entry = ClusterImage.namedProducer(name, maxNames);
        return send(entry).thenApply(reply -> new io.idemlog.server.state.ProducerIdentities.Identity(
            reply.value >>> 16, (short) (reply.value & 0xffff)));
    }

    private record Reply(long value, ClusterImage image) {
    }

    private CompletableFuture<ClusterImage> propose(byte[] entry) {
        return send(entry).thenApply(Reply::image);
    }

    /** Sends the entry to the leader; completes once it is applied HERE, failing if apply refused it. */
    private CompletableFuture<Reply> send(byte[] entry) {
        return client.async().send(Message.valueOf(ByteString.copyFrom(entry))).thenCompose(reply -> {
            if (!reply.isSuccess()) {
                return CompletableFuture.failedFuture(reply.getException() != null ? reply.getException()
                    : new IOException("metadata proposal failed: " + reply));
            }
            ByteBuffer b = reply.getMessage().getContent().asReadOnlyByteBuffer();
            byte status = b.get();
            long value = b.getLong();
            byte[] msg = new byte[b.remaining()];
            b.get(msg);
            if (status != MetadataStateMachine.ACCEPTED) {
                return CompletableFuture.failedFuture(new RefusedException(new String(msg, StandardCharsets.UTF_8)));
            }
            return stateMachine.awaitApplied(reply.getLogIndex()).thenApply(img -> new Reply(value, img));
        });
    }

    /**
     * Calls {@code listener} with the latest image after entries are applied on this node (and once at once):
     * on one dedicated thread, in order, never on a Ratis thread, so the listener may block (propose, create
     * directories). Runs coalesce: a listener sees the latest image, not necessarily every intermediate one, so it
     * must act on the whole image (idempotently), not on a difference it assumes.
     */
    public void addImageListener(Consumer<ClusterImage> listener) {
        imageListeners.add(listener);
        scheduleListeners();
    }

    private void scheduleListeners() {
        if (imageListeners.isEmpty() || !listenerRunPending.compareAndSet(false, true)) {
            return;
        }
        try {
            listenerThread.execute(() -> {
                listenerRunPending.set(false); // an image published from here on schedules another run
                ClusterImage now = image();
                for (Consumer<ClusterImage> l : imageListeners) {
                    try {
                        l.accept(now);
                    } catch (RuntimeException e) {
                        LOG.error("node {}: metadata image listener failed", config.nodeId(), e);
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            listenerRunPending.set(false); // closing
        }
    }

    /**
     * Registers (or re-registers) this node as a broker advertising {@code host:port} to Kafka clients; the image
     * keeps the latest registration per node, and an unchanged re-registration (a restart) changes nothing.
     */
    public CompletableFuture<ClusterImage> registerBroker(String host, int port) {
        return propose(ClusterImage.brokerRegistered(config.nodeId(), host, port));
    }

    /** This node's cluster configuration. */
    public ClusterConfig config() {
        return config;
    }

    @Override
    public void close() throws IOException {
        listenerThread.shutdown();
        try {
            client.close();
        } finally {
            server.close();
            try {
                if (!listenerThread.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("node {}: the metadata image listener did not finish within 10 s", config.nodeId());
                    listenerThread.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
