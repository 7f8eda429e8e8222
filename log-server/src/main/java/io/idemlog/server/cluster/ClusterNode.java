package io.idemlog.server.cluster;

import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import io.idemlog.server.log.TopicLifecycleListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What makes a node of the cluster follow the replicated metadata (docs/REPLICATION.md 4.1): after each applied
 * metadata entry (and every {@code reconcileIntervalMs}) it hosts the partition groups whose assignment names this
 * node and drops those no assignment names any more (pull: no fan-out RPC; a node that was down converges from the
 * metadata log when it returns), and it proposes LeaderChanged for every partition this node leads (a READY Raft
 * leader) at a term above the image's leader epoch. The periodic pass makes both robust against a missed
 * notification (a group recovered and elected while the server was still starting) and a failed attempt.
 *
 * <p>All of it runs on one thread of its own ({@code idemlog-cluster-<id>}), never on a Ratis thread, so it may
 * wait for Ratis (adding a group) without stalling the metadata group's apply.
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    /** A partition replica of this node, by topic id. */
    public record ReplicaId(UUID topicId, int partition) {
    }

    /** This node's partition groups (PartitionGroups in the server; a fake in tests). */
    public interface Replicas {
        /** Hosts the partition's group here if it is not yet (idempotent). */
        void ensure(String topic, UUID topicId, int partition, List<Integer> replicas) throws IOException;

        /** Stops hosting the partition's group here and deletes its data (idempotent). */
        void remove(UUID topicId, int partition);

        /** The hosted partition, or null. */
        Partition partition(String topic, int index);

        /** Every replica hosted here now (also those recovered from storage at start). */
        Set<ReplicaId> hosted();

        /**
         * Where this node leads the partition: proposes its topic's settings to the partition's group when they are
         * not those in force there (a topic config change); nothing otherwise.
         */
        default void configure(String topic, int index) {
        }
    }

    private final MetadataQuorum quorum;
    private final Replicas replicas;
    private final int nodeId;
    private final ScheduledExecutorService thread;
    /** Leader epochs proposed and not yet answered (no second proposal of the same epoch while one is in flight). */
    private final Map<ReplicaId, Integer> proposing = new ConcurrentHashMap<>();
    private volatile TopicLifecycleListener lifecycleListener;
    /** The topics (by id) of the image the last pass saw: to tell which were deleted. Only on the thread. */
    private Map<UUID, ClusterImage.TopicState> lastTopics = Map.of();
    /** Topic ids this node saw in an image and then no longer (deleted while it watched). Only on the thread. */
    private final Set<UUID> deletedSeen = new HashSet<>();
    /** Hosted replicas not (yet) in the image, warned about once. Only on the thread. */
    private final Set<ReplicaId> orphansLogged = new HashSet<>();
    private volatile long passes;
    private volatile boolean closed;
    /** When the running pass started (System.nanoTime), 0 when none runs; and the thread running it. */
    private volatile long passStartedNanos;
    private volatile Thread passThread;
    /** Looks for a pass that does not end (a Ratis group add or removal that never returns). */
    private final java.util.concurrent.ScheduledExecutorService watchdog;
    static final long STUCK_PASS_MS = 30_000L;

    /**
     * Starts following {@code quorum}'s image: a pass at once, after every applied entry, and every
     * {@code reconcileIntervalMs}.
     */
    public ClusterNode(MetadataQuorum quorum, Replicas replicas, long reconcileIntervalMs) {
        this.quorum = Objects.requireNonNull(quorum, "quorum");
        this.replicas = Objects.requireNonNull(replicas, "replicas");
        this.nodeId = quorum.nodeId();
        thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idemlog-cluster-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::pass, reconcileIntervalMs, reconcileIntervalMs, TimeUnit.MILLISECONDS);
        quorum.addImageListener(image -> schedulePass());
        watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idemlog-cluster-watchdog-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        watchdog.scheduleWithFixedDelay(this::checkStuck, 10, 10, TimeUnit.SECONDS);
    }

    /**
     * Every 10 s: a reconciliation pass running for more than {@link #STUCK_PASS_MS} is logged with where its thread
     * is (no later pass can run meanwhile: no group is added, removed or announced by this node), once per pass.
     */
    private void checkStuck() {
        long started = passStartedNanos;
        Thread t = passThread;
        if (started == 0 || t == null || stuckLogged == started) {
            return;
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (ms < STUCK_PASS_MS) {
            return;
        }
        stuckLogged = started;
        StringBuilder where = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            where.append("\n\tat ").append(e);
        }
        LOG.warn("node {}: the cluster reconciliation pass has been running for {} ms (no group is added, removed or "
            + "announced here until it ends); its thread:{}", nodeId, ms, where);
    }

    private volatile long stuckLogged;

    /** Who hears that a topic was deleted (the group coordinator drops its offsets); null: nobody. */
    public void setTopicLifecycleListener(TopicLifecycleListener listener) {
        lifecycleListener = listener;
    }

    /**
     * The partition groups' leader notification (Ratis notifyLeaderReady): proposes this node as the partition's
     * leader at {@code term}. Returns at once; the proposal runs on this node's thread.
     */
    public void onLeaderReady(UUID topicId, int partition, int term) {
        schedulePass();
    }

    /**
     * Registers this node as a broker advertising {@code host:port}: proposed now and retried (every
     * {@code retryMs}) until the metadata group applied it, without blocking the caller (a node starting before a
     * majority of voters is up still starts).
     */
    public void registerBroker(String host, int port, long retryMs) {
        quorum.registerBroker(host, port).whenComplete((img, e) -> {
            if (e == null) {
                LOG.info("node {}: registered as broker {}:{}", nodeId, host, port);
            } else if (!closed) {
                LOG.warn("node {}: broker registration failed ({}); retrying in {} ms", nodeId, e.toString(), retryMs);
                try {
                    thread.schedule(() -> registerBroker(host, port, retryMs), retryMs, TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException closing) {
                    // shutting down
                }
            }
        });
    }

    /** Reconciliation passes run so far (tests). */
    public long passes() {
        return passes;
    }

    private void schedulePass() {
        try {
            thread.execute(this::pass);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private void pass() {
        if (closed) {
            return;
        }
        passThread = Thread.currentThread();
        passStartedNanos = System.nanoTime();
        try {
            reconcile(quorum.image());
        } catch (RuntimeException e) {
            LOG.error("node {}: cluster reconciliation failed (retried at the next pass)", nodeId, e);
        } finally {
            passStartedNanos = 0;
            passes++;
        }
    }

    private void reconcile(ClusterImage image) {
        Set<ReplicaId> wanted = new HashSet<>();
        Map<UUID, ClusterImage.TopicState> topics = new HashMap<>();
        for (ClusterImage.TopicState t : image.topics().values()) {
            topics.put(t.id(), t);
            for (int p = 0; p < t.partitions().size(); p++) {
                ClusterImage.PartitionState s = t.partitions().get(p);
                if (!s.replicas().contains(nodeId)) {
                    continue;
                }
                ReplicaId id = new ReplicaId(t.id(), p);
                wanted.add(id);
                try {
                    replicas.ensure(t.name(), t.id(), p, s.replicas());
                } catch (IOException | RuntimeException e) {
                    LOG.warn("node {}: cannot host {}-{} yet: {}", nodeId, t.name(), p, e.toString());
                    continue;
                }
                replicas.configure(t.name(), p);
                proposeLeaderIfNeeded(t, p, s);
            }
        }
        for (UUID seen : lastTopics.keySet()) {
            if (!topics.containsKey(seen)) {
                deletedSeen.add(seen);
            }
        }
        for (ReplicaId id : replicas.hosted()) {
            // Only what this node SAW go: right after a start the image may still be replaying (or be a snapshot
            // behind), and a group recovered from storage must not be deleted because its topic is not known yet.
            // A topic deleted while the node was down leaves its group here (logged once), never deletes live data.
            boolean goneNow = deletedSeen.contains(id.topicId());
            ClusterImage.TopicState now = topics.get(id.topicId());
            boolean movedAway = now != null && id.partition() < now.partitions().size() && !wanted.contains(id);
            if (!wanted.contains(id) && !goneNow && !movedAway) {
                if (orphansLogged.add(id)) {
                    LOG.warn("node {}: hosts the group of {}-{} that the metadata (as applied here so far) does not "
                        + "assign to it; kept", nodeId, id.topicId(), id.partition());
                }
                continue;
            }
            if (!wanted.contains(id)) {
                try {
                    replicas.remove(id.topicId(), id.partition());
                    LOG.info("node {}: partition {}-{} no longer assigned here: group removed", nodeId, id.topicId(),
                        id.partition());
                } catch (RuntimeException e) {
                    LOG.warn("node {}: cannot remove the group of {}-{} yet: {}", nodeId, id.topicId(),
                        id.partition(), e.toString());
                }
            }
        }
        TopicLifecycleListener l = lifecycleListener;
        if (l != null) {
            for (Map.Entry<UUID, ClusterImage.TopicState> e : lastTopics.entrySet()) {
                ClusterImage.TopicState before = e.getValue();
                ClusterImage.TopicState now = topics.get(e.getKey());
                try {
                    if (now == null) {
                        l.onTopicDeleted(before.name(), before.id(), before.partitions().size());
                    } else if (now.partitions().size() > before.partitions().size()) {
                        l.onPartitionsAdded(now.name(), now.id(), now.partitions().size());
                    }
                } catch (RuntimeException ex) {
                    LOG.warn("node {}: topic lifecycle listener failed for {}", nodeId, before.name(), ex);
                }
            }
        }
        lastTopics = topics;
    }

    /** Proposes LeaderChanged when this node's division leads at a term above the image's epoch. */
    private void proposeLeaderIfNeeded(ClusterImage.TopicState t, int p, ClusterImage.PartitionState s) {
        Partition part = replicas.partition(t.name(), p);
        if (part == null || part.role() != PartitionRole.LEADER) {
            return;
        }
        int term = part.leaderEpoch();
        if (term <= s.leaderEpoch()) {
            return;
        }
        ReplicaId id = new ReplicaId(t.id(), p);
        Integer inFlight = proposing.putIfAbsent(id, term);
        if (inFlight != null) {
            if (inFlight >= term) {
                return;
            }
            proposing.put(id, term);
        }
        LOG.info("node {}: proposing LeaderChanged {}-{} epoch {}", nodeId, t.name(), p, term);
        quorum.changeLeader(t.id(), p, nodeId, term).whenComplete((img, e) -> {
            proposing.remove(id, term);
            if (e == null) {
                LOG.info("node {}: leader of {}-{} at epoch {}", nodeId, t.name(), p, term);
            } else {
                LOG.debug("node {}: LeaderChanged {}-{} epoch {} not applied: {}", nodeId, t.name(), p, term,
                    e.toString());
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        watchdog.shutdownNow();
        thread.shutdownNow();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
