package io.idemlog.server.cluster;

import io.idemlog.server.group.GroupConfig;
import io.idemlog.server.group.GroupCoordinatorService;
import io.idemlog.server.group.TopicPartition;
import org.agrona.concurrent.EpochClock;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Consumer groups in cluster mode (issue 13 scope 4): the committed offsets are the state of one Raft group, the
 * offsets group, on every voter ({@link OffsetsStateMachine}); the node leading it is every group's coordinator.
 * When this node's division becomes a ready leader, a {@link GroupCoordinatorService} starts here with a
 * {@link ReplicatedOffsetJournal} and loads the offsets as committed (every entry before the leader's first is
 * applied by then); when the leadership goes, that service closes (whatever was waiting is answered
 * COORDINATOR_NOT_AVAILABLE, later requests NOT_COORDINATOR) and the clients find the new coordinator through
 * FindCoordinator. Membership is not replicated, as in Kafka a moved coordinator has its members rejoin; an offset
 * commit is answered only once its entry is committed by a majority.
 *
 * <p>Role changes are handled on this object's own thread (Ratis's notifications only schedule a check), and a
 * periodic check catches what a notification might miss.
 */
public final class ClusterGroupCoordinator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterGroupCoordinator.class);
    /** The offsets group's id, the same on every node. */
    public static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(
        UUID.nameUUIDFromBytes("idemlog-offsets-group".getBytes(StandardCharsets.UTF_8)));
    /** How long an offsets entry may take to commit before the commit is answered COORDINATOR_NOT_AVAILABLE. */
    static final long PROPOSE_TIMEOUT_MS = 15_000;
    private static final long CHECK_INTERVAL_MS = 500;

    private final ClusterConfig config;
    private final GroupConfig groupConfig;
    private final EpochClock clock;
    private final Predicate<TopicPartition> partitionExists;
    private final OffsetsStateMachine stateMachine = new OffsetsStateMachine();
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final ScheduledExecutorService roleThread;
    private final AtomicBoolean checkPending = new AtomicBoolean();
    private volatile RaftServer server;
    private volatile MetadataQuorum quorum;
    /** The coordinator running here (this node leads the offsets group), or null. Written on roleThread only. */
    private volatile GroupCoordinatorService current;
    private long currentTerm = -1;
    private volatile boolean closed;
    private final AtomicLong starts = new AtomicLong();

    public ClusterGroupCoordinator(ClusterConfig config, GroupConfig groupConfig, EpochClock clock,
                                   Predicate<TopicPartition> partitionExists) {
        this.config = Objects.requireNonNull(config, "config");
        this.groupConfig = Objects.requireNonNull(groupConfig, "groupConfig");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.partitionExists = Objects.requireNonNull(partitionExists, "partitionExists");
        this.roleThread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idemlog-offsets-role-" + config.nodeId());
            t.setDaemon(true);
            return t;
        });
        stateMachine.setRoleHook(this::scheduleCheck);
    }

    /** The offsets group's state machine, for the Raft server's registry (created or recovered at start). */
    public OffsetsStateMachine stateMachine() {
        return stateMachine;
    }

    /**
     * Hosts the offsets group on the started Raft server (adds it, with every voter as a peer, unless recovered
     * from storage) and starts following its leadership.
     */
    public void start(MetadataQuorum metadata) throws IOException {
        this.quorum = Objects.requireNonNull(metadata, "metadata");
        RaftServer s = metadata.server();
        boolean hosted = false;
        for (RaftGroupId id : s.getGroupIds()) {
            hosted |= id.equals(GROUP_ID);
        }
        if (!hosted) {
            List<RaftPeer> peers = new ArrayList<>();
            for (ClusterConfig.Voter v : config.voters()) {
                peers.add(RaftPeer.newBuilder().setId(MetadataQuorum.peerId(v.id())).setAddress(v.address())
                    .setClientAddress(v.address()).setAdminAddress(v.address()).build());
            }
            RaftClientReply reply = s.groupManagement(GroupManagementRequest.newAdd(clientId, s.getId(),
                callIds.incrementAndGet(), RaftGroup.valueOf(GROUP_ID, peers)));
            if (!reply.isSuccess()) {
                throw new IOException("cannot add the offsets group: " + reply.getException());
            }
            LOG.info("node {}: offsets group {} created with voters {}", config.nodeId(), GROUP_ID, config.voters());
        } else {
            LOG.info("node {}: offsets group {} recovered", config.nodeId(), GROUP_ID);
        }
        this.server = s;
        roleThread.scheduleWithFixedDelay(this::check, CHECK_INTERVAL_MS, CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
        scheduleCheck();
    }

    /** The coordinator running on this node now, or null when another node (or none) is the coordinator. */
    public GroupCoordinatorService local() {
        return current;
    }

    /** Coordinators started on this node so far (one per leadership term it won). */
    public long starts() {
        return starts.get();
    }

    /** The node id of the offsets group's leader as this node knows it, or -1. */
    public int coordinatorNode() {
        DivisionInfo info = info();
        if (info == null) {
            return -1;
        }
        RaftPeerId id = info.getLeaderId();
        if (id == null || !id.toString().startsWith("n")) {
            return -1;
        }
        try {
            return Integer.parseInt(id.toString().substring(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The coordinator's registered Kafka listener, or null while there is no leader (or it never registered). */
    public ClusterImage.BrokerState coordinatorBroker() {
        MetadataQuorum q = quorum;
        int node = coordinatorNode();
        return q == null || node < 0 ? null : q.image().broker(node);
    }

    private DivisionInfo info() {
        RaftServer s = server;
        if (s == null) {
            return null;
        }
        try {
            return s.getDivision(GROUP_ID).getInfo();
        } catch (IOException e) {
            return null;
        }
    }

    private void scheduleCheck() {
        if (!closed && checkPending.compareAndSet(false, true)) {
            try {
                roleThread.execute(() -> {
                    checkPending.set(false);
                    check();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                checkPending.set(false); // closing
            }
        }
    }

    /** On roleThread: start a coordinator when this node became a ready leader, stop it when it is not one. */
    private void check() {
        if (closed) {
            return;
        }
        try {
            DivisionInfo info = info();
            boolean leading = info != null && info.isLeader() && info.isLeaderReady();
            long term = info == null ? -1 : info.getCurrentTerm();
            if (leading && (current == null || term != currentTerm)) {
                stopCurrent("a new term " + term);
                ReplicatedOffsetJournal journal = new ReplicatedOffsetJournal(stateMachine::copyState,
                    this::propose, Runnable::run);
                GroupCoordinatorService service = new GroupCoordinatorService(groupConfig, clock, journal,
                    partitionExists);
                journal.setCoordinatorThread(service::execute);
                currentTerm = term;
                current = service.start();
                starts.incrementAndGet();
                LOG.info("node {}: leads the offsets group (term {}): group coordinator started, loading the "
                    + "committed offsets as of entry {}", config.nodeId(), term,
                    stateMachine.getLastAppliedTermIndex());
            } else if (!leading && current != null) {
                stopCurrent("the offsets group's leadership moved to node " + coordinatorNode());
            }
        } catch (RuntimeException e) {
            LOG.error("node {}: offsets group role check failed", config.nodeId(), e);
        }
    }

    private void stopCurrent(String why) {
        GroupCoordinatorService c = current;
        if (c == null) {
            return;
        }
        current = null;
        currentTerm = -1;
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            LOG.warn("node {}: closing the group coordinator", config.nodeId(), e);
        }
        LOG.info("node {}: group coordinator stopped ({})", config.nodeId(), why);
    }

    /** One entry to the offsets group through this node's server (the leader's division appends it). */
    private CompletableFuture<?> propose(byte[] entry) {
        RaftServer s = server;
        if (s == null) {
            return CompletableFuture.failedFuture(new IOException("the offsets group is not started"));
        }
        RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(s.getId())
            .setGroupId(GROUP_ID).setCallId(callIds.incrementAndGet())
            .setMessage(Message.valueOf(ByteString.copyFrom(entry))).setType(RaftClientRequest.writeRequestType())
            .build();
        try {
            return s.submitClientRequestAsync(request).orTimeout(PROPOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .thenApply(reply -> {
                    if (!reply.isSuccess()) {
                        scheduleCheck();
                        throw new java.util.concurrent.CompletionException(reply.getException() != null
                            ? reply.getException() : new IOException("offsets entry not committed"));
                    }
                    return reply;
                });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Stops the coordinator running here (if any) and the role thread; the Raft server is closed by its owner. */
    @Override
    public void close() {
        closed = true;
        try {
            roleThread.submit(() -> stopCurrent("the node is stopping")).get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("node {}: stopping the group coordinator", config.nodeId(), e);
        }
        roleThread.shutdownNow();
    }
}
