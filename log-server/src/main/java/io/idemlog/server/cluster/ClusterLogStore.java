package io.idemlog.server.cluster;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.LogStore;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.StorageMetrics;
import io.idemlog.server.log.TopicLifecycleListener;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.metadata.TopicConfig;
import io.idemlog.server.metadata.TopicConfigDef;
import io.idemlog.server.state.ProducerIdentities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link LogStore} of a cluster node: topics, partition counts, ids and configs are the replicated metadata
 * ({@link MetadataQuorum#image()}); creating, deleting and reconfiguring a topic are metadata proposals, waited for
 * (bounded) until applied on this node, so callers must run them off the event loops (handlers do:
 * {@code BrokerContext.runBlocking}); producer ids come from blocks the metadata group cuts in log order, so they
 * are unique across the cluster; partitions are the partition groups this node hosts (the lookup the server passes,
 * {@code PartitionGroups.partition}).
 *
 * <p>Named producer identities are metadata entries (NAMED_PRODUCER); CreatePartitions is a metadata entry
 * (PARTITIONS_ADDED). DeleteRecords is a log start entry of the partition's group, as retention is
 * (docs/REPLICATION.md 4.7). Manual replica assignments are refused (INVALID_REPLICA_ASSIGNMENT).
 */
public final class ClusterLogStore implements LogStore {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterLogStore.class);
    /** Most partitions a topic may have (LogManager's bound on a single node). */
    static final int MAX_PARTITIONS = 100_000;

    /** This node's partition replicas. */
    @FunctionalInterface
    public interface PartitionLookup {
        /** The partition if this node hosts it, otherwise null. */
        Partition partition(String topic, int index);
    }

    private final MetadataQuorum quorum;
    private final PartitionLookup partitions;
    private final LogConfig baseConfig;
    private final long timeoutMs;
    private final TopicConfigDef configDef = TopicConfigDef.STANDARD;
    private final StorageMetrics metrics = new StorageMetrics();
    private volatile TopicConfigDef.BrokerDefaults brokerDefaults = TopicConfigDef.BrokerDefaults.NONE;
    private volatile TopicLifecycleListener lifecycleListener;
    /** The effective config of each topic, for the image it was computed from (rebuilt when the image changes). */
    private volatile ConfigCache configCache = new ConfigCache(null, Map.of());
    /** The producer ids of this node's current block: [nextId, endId). Guarded by this. */
    private long nextId;
    private long endId;

    private record ConfigCache(ClusterImage image, Map<String, TopicConfig> configs) {
    }

    /**
     * @param quorum     this node's metadata group member
     * @param partitions this node's partition replicas
     * @param baseConfig the server's log configuration (topic overrides apply on top of it)
     * @param timeoutMs  how long a metadata proposal may take before the request is answered REQUEST_TIMED_OUT
     */
    public ClusterLogStore(MetadataQuorum quorum, PartitionLookup partitions, LogConfig baseConfig, long timeoutMs) {
        this.quorum = Objects.requireNonNull(quorum, "quorum");
        this.partitions = Objects.requireNonNull(partitions, "partitions");
        this.baseConfig = Objects.requireNonNull(baseConfig, "baseConfig");
        this.timeoutMs = timeoutMs;
    }

    /** The replicated metadata as applied on this node (immutable). */
    public ClusterImage image() {
        return quorum.image();
    }

    /** The metadata group's leader (the controller Metadata and DescribeCluster report), -1 when unknown. */
    public int metadataLeaderId() {
        return quorum.leaderId();
    }

    // ------------------------------------------------------------------------------------------------ reads

    /**
     * The partition's leader as this node's replica of its Raft group knows it, when that is newer than the image's
     * (docs/REPLICATION.md section 4.9): a term above the image's leader epoch, with a leader this replica knows (a
     * follower learns it from the new leader's first AppendEntries, the leader at its election). The LeaderChanged
     * that the new leader proposes says the same later: a metadata round trip and an apply after its first entry
     * is committed, and after the metadata group's own election when its leader died too. Metadata answers this
     * one so that clients stop sending to a dead leader as soon as a replica knows who replaced it.
     *
     * @return {@code (term << 32) | leaderId}, or -1 when this node hosts no replica of the partition, its replica
     *         knows no leader now, or knows none newer than {@code imageEpoch}
     */
    public long newerLeader(String topic, int index, int imageEpoch) {
        Partition p = partitions.partition(topic, index);
        if (p == null) {
            return -1L;
        }
        int term = p.leaderEpoch(); // first: a leader read after it is of this term or a later one, never older
        int leader = p.leaderId();
        if (term <= imageEpoch || leader < 0) {
            return -1L;
        }
        return ((long) term << 32) | leader;
    }

    @Override
    public Partition partition(String topic, int index) {
        ClusterImage.TopicState t = image().topic(topic);
        if (t == null || index < 0 || index >= t.partitions().size()) {
            return null;
        }
        return partitions.partition(topic, index);
    }

    @Override
    public int partitionCount(String topic) {
        ClusterImage.TopicState t = image().topic(topic);
        return t == null ? -1 : t.partitions().size();
    }

    @Override
    public Map<String, Integer> topics() {
        Map<String, Integer> m = new TreeMap<>();
        for (ClusterImage.TopicState t : image().topics().values()) {
            m.put(t.name(), t.partitions().size());
        }
        return Collections.unmodifiableMap(m);
    }

    @Override
    public UUID topicId(String topic) {
        ClusterImage.TopicState t = image().topic(topic);
        return t == null ? null : t.id();
    }

    @Override
    public String topicName(UUID id) {
        ClusterImage.TopicState t = image().topic(id);
        return t == null ? null : t.name();
    }

    @Override
    public TopicConfig topicConfig(String topic) {
        ClusterImage now = image();
        ConfigCache cache = configCache;
        if (cache.image() != now) {
            Map<String, TopicConfig> m = new HashMap<>();
            for (ClusterImage.TopicState t : now.topics().values()) {
                m.put(t.name(), new TopicConfig(configDef, t.configs(), brokerDefaults));
            }
            cache = new ConfigCache(now, m);
            configCache = cache;
        }
        return cache.configs().get(topic);
    }

    @Override
    public TopicConfig newTopicConfig(Map<String, String> overrides) {
        return new TopicConfig(configDef, overrides, brokerDefaults);
    }

    @Override
    public TopicConfigDef topicConfigDef() {
        return configDef;
    }

    @Override
    public void setBrokerDefaults(TopicConfigDef.BrokerDefaults defaults) {
        brokerDefaults = Objects.requireNonNull(defaults, "defaults");
        configCache = new ConfigCache(null, Map.of());
    }

    @Override
    public void setTopicLifecycleListener(TopicLifecycleListener listener) {
        lifecycleListener = listener;
    }

    /** Who hears of topic deletions (the cluster node tells it when an applied image drops a topic). */
    TopicLifecycleListener lifecycleListener() {
        return lifecycleListener;
    }

    @Override
    public int maxReplicationFactor() {
        return Math.max(1, image().brokers().size());
    }

    @Override
    public int replicationFactor(String topic) {
        ClusterImage.TopicState t = image().topic(topic);
        return t == null || t.partitions().isEmpty() ? -1 : t.partitions().get(0).replicas().size();
    }

    // ------------------------------------------------------------------------------------------------ admin

    @Override
    public UUID createTopic(String topic, int partitions, Map<String, String> configs, boolean validateOnly)
        throws IOException, AdminException {
        return createTopic(topic, partitions, -1, configs, validateOnly);
    }

    @Override
    public UUID createTopic(String topic, int partitions, int replicationFactor, Map<String, String> configs,
                            boolean validateOnly) throws IOException, AdminException {
        if (!io.idemlog.server.config.TopicNames.isValid(topic)) {
            throw new AdminException(ErrorCode.INVALID_TOPIC_EXCEPTION, "invalid topic name '" + topic
                + "': 1-249 characters of a-z A-Z 0-9 . _ -, not '.' or '..'");
        }
        if (partitions < 1 || partitions > MAX_PARTITIONS) {
            throw new AdminException(ErrorCode.INVALID_PARTITIONS, "partition count must be in [1, "
                + MAX_PARTITIONS + "]: " + partitions);
        }
        int rf = replicationFactor == -1 ? quorum.config().defaultReplicationFactor() : replicationFactor;
        int brokers = image().brokers().size();
        if (rf < 1 || rf > brokers) {
            throw new AdminException(ErrorCode.INVALID_REPLICATION_FACTOR, "Unable to replicate the partition "
                + rf + " time(s): The target replication factor of " + rf + " cannot be reached because only "
                + brokers + " broker(s) are registered.");
        }
        if (image().topic(topic) != null) {
            throw new AdminException(ErrorCode.TOPIC_ALREADY_EXISTS, "Topic '" + topic + "' already exists.");
        }
        checkConfigs(configs);
        if (validateOnly) {
            return null;
        }
        ClusterImage.TopicState t = await(quorum.createTopic(topic, partitions, rf, configs), "create topic "
            + topic);
        LOG.info("created topic {} (id {}) with {} partition(s), replication factor {}, configs {}", topic, t.id(),
            partitions, rf, configs);
        return t.id();
    }

    /**
     * The topic configs a replicated partition applies; any other is refused in cluster mode (a topic config that
     * silently did nothing would be worse than a refusal): a config added to {@link TopicConfigDef} is refused here
     * until its replicated form exists. Those apply decides with (segment.bytes, segment.ms, max.message.bytes,
     * message.timestamp.type, dedup.*) reach the replicas as a config entry of the partition's group, which each
     * applies at the same point of the log (docs/REPLICATION.md 4.8); retention.ms / retention.bytes are the
     * leader's to apply: it proposes the log start offset they ask for as an entry; min.insync.replicas is the
     * leader's check before it proposes. cleanup.policy is accepted because delete, the only policy served, is what
     * runs.
     */
    static final java.util.Set<String> APPLIED_CONFIGS = java.util.Set.of("dedup.header", "dedup.window.ms",
        "dedup.max.keys", "min.insync.replicas", "cleanup.policy", "retention.ms", "retention.bytes",
        "segment.bytes", "segment.ms", "max.message.bytes", "message.timestamp.type");

    private void checkConfigs(Map<String, String> configs) throws AdminException {
        List<String> notApplied = new java.util.ArrayList<>();
        for (String key : configs.keySet()) {
            if (!APPLIED_CONFIGS.contains(key)) {
                notApplied.add(key);
            }
        }
        if (!notApplied.isEmpty()) {
            java.util.Collections.sort(notApplied);
            throw new AdminException(ErrorCode.INVALID_CONFIG, "topic config(s) " + String.join(", ", notApplied)
                + " not supported in cluster mode yet; per topic only "
                + String.join(", ", new java.util.TreeSet<>(APPLIED_CONFIGS)));
        }
        List<String> problems = configDef.problems(configs);
        if (!problems.isEmpty()) {
            throw new AdminException(ErrorCode.INVALID_CONFIG, String.join("; ", problems));
        }
        try {
            new TopicConfig(configDef, configs, brokerDefaults).applyTo(baseConfig);
        } catch (IllegalArgumentException e) {
            throw new AdminException(ErrorCode.INVALID_CONFIG, "the topic configs do not fit together: "
                + e.getMessage());
        }
    }

    private ClusterImage.TopicState existing(String topic) throws AdminException {
        ClusterImage.TopicState t = image().topic(topic);
        if (t == null) {
            throw new AdminException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This cluster has no topic '" + topic
                + "'.");
        }
        return t;
    }

    @Override
    public void deleteTopic(String topic) throws IOException, AdminException {
        ClusterImage.TopicState t = existing(topic);
        await(quorum.deleteTopic(t.id()), "delete topic " + topic);
        LOG.info("deleted topic {} (id {})", topic, t.id());
    }

    @Override
    public void alterTopicConfig(String topic, Map<String, String> overrides, boolean validateOnly)
        throws IOException, AdminException {
        ClusterImage.TopicState t = existing(topic);
        checkConfigs(overrides);
        if (validateOnly) {
            return;
        }
        await(quorum.replaceConfigs(t.id(), overrides), "alter configs of " + topic);
        LOG.info("topic {} configs are now {}", topic, overrides);
    }

    @Override
    public void createPartitions(String topic, int totalCount, boolean validateOnly)
        throws IOException, AdminException {
        ClusterImage.TopicState t = existing(topic);
        if (totalCount <= t.partitions().size()) {
            throw new AdminException(ErrorCode.INVALID_PARTITIONS, "Topic currently has " + t.partitions().size()
                + " partitions, which is higher than or equal to the requested " + totalCount + ".");
        }
        if (totalCount > MAX_PARTITIONS) {
            throw new AdminException(ErrorCode.INVALID_PARTITIONS, "Number of partitions must be at most "
                + MAX_PARTITIONS + ": " + totalCount);
        }
        if (validateOnly) {
            return;
        }
        ClusterImage.TopicState grown = await(quorum.addPartitions(t, totalCount), "add partitions to " + topic);
        if (grown == null || grown.partitions().size() < totalCount) {
            throw new AdminException(ErrorCode.INVALID_PARTITIONS, "Topic " + topic + " was changed meanwhile; it "
                + "has " + (grown == null ? 0 : grown.partitions().size()) + " partitions");
        }
        LOG.info("topic {} has {} partitions now (was {})", topic, grown.partitions().size(),
            t.partitions().size());
    }

    /**
     * DeleteRecords: the partition's leader (this node, or NOT_LEADER_OR_FOLLOWER) proposes the new log start
     * offset to the partition's group ({@link io.idemlog.server.replication.ReplicatedPartition#moveLogStartAsync});
     * answered once applied on this leader (committed in a majority's Raft logs). Waits at most the admin timeout
     * (called on the storage-io thread, never an event loop).
     */
    @Override
    public long deleteRecords(String topic, int partition, long offset) throws IOException, AdminException {
        ClusterImage.TopicState t = existing(topic);
        if (partition < 0 || partition >= t.partitions().size()) {
            throw new AdminException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + topic + " has no partition "
                + partition + ".");
        }
        if (!(partitions.partition(topic, partition)
            instanceof io.idemlog.server.replication.ReplicatedPartition p)) {
            throw new AdminException(ErrorCode.NOT_LEADER_OR_FOLLOWER, "This node holds no replica of " + topic + "-"
                + partition + ".");
        }
        CompletableFuture<Long> f = p.moveLogStartAsync(offset);
        try {
            return f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AdminException(ErrorCode.REQUEST_TIMED_OUT, "DeleteRecords of " + topic + "-" + partition
                + ": the partition's group did not commit it within " + timeoutMs + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("DeleteRecords of " + topic + "-" + partition + ": interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof AdminException a) {
                throw a;
            }
            throw new IOException("DeleteRecords of " + topic + "-" + partition + ": " + c, c);
        }
    }

    // ------------------------------------------------------------------------------------------------ producer ids

    /**
     * The next id of this node's block; a new block from the metadata group when it runs out (waits for the
     * proposal, bounded: call it off the event loops).
     */
    @Override
    public synchronized long nextProducerId() throws IOException {
        if (nextId >= endId) {
            MetadataQuorum.ProducerIdBlock b;
            try {
                b = await(quorum.allocateProducerIdBlock(), "allocate a producer id block");
            } catch (AdminException e) {
                throw new IOException(e.getMessage(), e);
            }
            nextId = b.firstId();
            endId = b.endId();
            LOG.info("node {}: producer id block [{}, {})", quorum.nodeId(), nextId, endId);
        }
        return nextId++;
    }

    /** Names kept at most in the replicated identities (as a single node's producer-identities file). */
    static final int MAX_PRODUCER_NAMES = 100_000;

    /**
     * A named producer's stable identity, decided by the metadata group (docs/DEDUP.md "Stable producer identity"):
     * the same producer id on every node, at an epoch block above its earlier incarnations'; answered once applied
     * on this node.
     *
     * @throws IllegalArgumentException when the name is empty or longer than 1024 bytes
     * @throws IOException              when the metadata group does not commit it (no quorum) in time
     */
    @Override
    public ProducerIdentities.Identity initNamedProducer(String name) throws IOException {
        try {
            ProducerIdentities.Identity id = await(quorum.initNamedProducer(name, MAX_PRODUCER_NAMES),
                "init named producer");
            LOG.info("named producer identity: id {} epoch {}", id.producerId(), id.epoch());
            return id;
        } catch (AdminException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * The lowest epoch a batch of {@code producerId} may carry here, by this node's metadata (a named producer's
     * current epoch block; every epoch for a retired id), or -1. A node whose metadata lags fences an older
     * incarnation once its image has the newer init (the partition's producer state fences it as soon as the new
     * incarnation writes there). Per batch: no lock, no allocation (a table rebuilt per image).
     */
    @Override
    public long namedProducerEpoch(long producerId) {
        ClusterImage now = image();
        FenceCache cache = fenceCache;
        if (cache.image() != now) {
            ClusterImage.Identities ids = now.identities();
            org.agrona.collections.Long2LongHashMap m = new org.agrona.collections.Long2LongHashMap(
                Math.max(8, (ids.names().size() + ids.retired().size()) * 2), 0.65f, -1L);
            for (long retired : ids.retired()) {
                m.put(retired, ProducerIdentities.RETIRED);
            }
            for (ClusterImage.NamedProducer p : ids.names().values()) {
                m.put(p.producerId(), p.epoch());
            }
            cache = new FenceCache(now, m);
            fenceCache = cache;
        }
        return cache.fence().get(producerId);
    }

    private record FenceCache(ClusterImage image, org.agrona.collections.Long2LongHashMap fence) {
    }

    private volatile FenceCache fenceCache = new FenceCache(null, new org.agrona.collections.Long2LongHashMap(-1L));

    @Override
    public StorageMetrics metrics() {
        return metrics;
    }

    /** Nothing of its own to close: the partition groups and the quorum belong to the server. */
    @Override
    public void close() {
    }

    /**
     * Waits (bounded) for a proposal. A refusal by the image becomes the matching admin error; a timeout
     * REQUEST_TIMED_OUT; a quorum that cannot be reached an IOException (the caller's storage error).
     */
    private <T> T await(CompletableFuture<T> f, String what) throws IOException, AdminException {
        try {
            return f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw new AdminException(ErrorCode.REQUEST_TIMED_OUT, what + ": the metadata quorum did not commit "
                + "it within " + timeoutMs + " ms (is a majority of the controller.quorum.voters up?)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof MetadataQuorum.RefusedException r) {
                String m = r.getMessage();
                if (m.contains("already exists") || m.contains("already in use")) {
                    throw new AdminException(ErrorCode.TOPIC_ALREADY_EXISTS, m);
                }
                if (m.startsWith("no topic") || m.startsWith("no partition")) {
                    throw new AdminException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, m);
                }
                if (m.contains("partitions, not the")) {
                    throw new AdminException(ErrorCode.INVALID_PARTITIONS, m);
                }
                throw new AdminException(ErrorCode.INVALID_REQUEST, what + " refused: " + m);
            }
            if (c instanceof IllegalArgumentException) {
                throw new AdminException(ErrorCode.INVALID_REPLICATION_FACTOR, c.getMessage());
            }
            throw new IOException(what + ": " + c, c);
        }
    }
}
