package io.idemlog.server;

import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.group.FileOffsetJournal;
import io.idemlog.server.group.GroupCoordinatorService;
import io.idemlog.server.handler.BrokerContext;
import io.idemlog.server.handler.FetchWaits;
import io.idemlog.server.handler.Handlers;
import io.idemlog.server.handler.ServerMetrics;
import io.idemlog.server.log.HighWatermarkListener;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.LogStore;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.TopicLifecycleListener;
import io.idemlog.server.metadata.TopicConfigDef;
import io.idemlog.server.metrics.MetricsService;
import io.idemlog.server.metrics.ServerMeters;
import io.idemlog.server.network.NetworkServer;
import org.agrona.concurrent.SystemEpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A running idemlog server: the data directory (locked against a second server), storage, and the listener.
 * {@link #close()} is the clean shutdown: stop accepting, then let storage write its producer-state snapshots.
 */
public final class IdemlogServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IdemlogServer.class);

    /** Opens (and recovers) the storage in a data directory. */
    @FunctionalInterface
    public interface StorageOpener {
        LogStore open(Path dataDir, LogConfig config, HighWatermarkListener listener) throws IOException;
    }

    private final ServerConfig config;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final LogStore logs;
    /** The group coordinator's thread and committed offsets (closed after the network, before storage). */
    private final GroupCoordinatorService groupCoordinator;
    private final NetworkServer network;
    private final ServerMetrics metrics;
    private final String clusterId;
    private final int port;
    private final ScheduledExecutorService metricsLogger;
    /** The metrics registry, its Prometheus endpoint and JMX (docs/OPERATIONS.md). */
    private final MetricsService metricsService;
    /** Blocking file work handed off by request handlers (see {@link BrokerContext#blockingIo()}). */
    private final ExecutorService blockingIo;
    private boolean closed;
    /**
     * Cluster mode only: this node's member of the metadata group (its Raft server also hosts the partition
     * groups); null on a single node.
     */
    private final io.idemlog.server.cluster.MetadataQuorum metadataQuorum;
    /** Cluster mode: this node's partition groups (on the quorum's Raft server) and its metadata follower. */
    private final io.idemlog.server.replication.PartitionGroups partitionGroups;
    private final io.idemlog.server.cluster.ClusterNode clusterNode;
    /** Cluster mode: the consumer groups' coordinator, on whichever node leads the replicated offsets group. */
    private final io.idemlog.server.cluster.ClusterGroupCoordinator clusterGroups;

    private IdemlogServer(ServerConfig config, StorageOpener opener) throws IOException, InterruptedException {
        this.config = config;
        Files.createDirectories(config.dataDir);
        lockChannel = FileChannel.open(config.dataDir.resolve(".lock"), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = lockChannel.tryLock();
        } catch (IOException e) {
            lockChannel.close();
            throw e;
        }
        if (l == null) {
            lockChannel.close();
            throw new IOException("data directory " + config.dataDir + " is in use by another idemlog server");
        }
        lock = l;
        LogStore opened = null;
        GroupCoordinatorService coordinator = null;
        NetworkServer net = null;
        MetricsService meters = null;
        io.idemlog.server.cluster.MetadataQuorum quorum = null;
        io.idemlog.server.replication.PartitionGroups groupsHere = null;
        io.idemlog.server.cluster.ClusterNode node = null;
        io.idemlog.server.cluster.ClusterGroupCoordinator offsetsGroup = null;
        blockingIo = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "idemlog-storage-io");
            t.setDaemon(true);
            return t;
        });
        try {
            clusterId = clusterId(config);
            FetchWaits fetchWaits = new FetchWaits();
            metrics = new ServerMetrics();
            long t0 = System.nanoTime();
            if (config.cluster == null) {
                opened = opener.open(config.dataDir, config.log, fetchWaits);
            } else {
                // Cluster mode (docs/REPLICATION.md): the partitions are this node's Raft partition groups, hosted
                // on the metadata group's Raft server; topics are the replicated metadata. The data directory
                // keeps only the lock and meta.properties; Raft storage is replication.dir.
                groupsHere = new io.idemlog.server.replication.PartitionGroups(config.cluster, config.log,
                    SystemEpochClock.INSTANCE, PARTITION_TICK_MS);
                java.util.concurrent.atomic.AtomicReference<io.idemlog.server.cluster.ClusterNode> nodeRef =
                    new java.util.concurrent.atomic.AtomicReference<>();
                groupsHere.setLeaderListener((topicId, partition, term) -> {
                    io.idemlog.server.cluster.ClusterNode n = nodeRef.get();
                    if (n != null) {
                        n.onLeaderReady(topicId, partition, term); // before it exists, its periodic pass catches up
                    }
                });
                // consumer groups: the committed offsets are the replicated offsets group's state; a commit names
                // a partition that exists when the topic (in the metadata) has it
                java.util.concurrent.atomic.AtomicReference<io.idemlog.server.cluster.ClusterLogStore> storeRef =
                    new java.util.concurrent.atomic.AtomicReference<>();
                offsetsGroup = new io.idemlog.server.cluster.ClusterGroupCoordinator(config.cluster, config.groups,
                    SystemEpochClock.INSTANCE, tp -> {
                        io.idemlog.server.cluster.ClusterLogStore s = storeRef.get();
                        return s != null && s.partitionCount(tp.topic()) > tp.partition();
                    });
                // The settings each partition's leader proposes as its config entry, versioned by the metadata index
                // they were read at; null (nothing proposed) until the metadata is open and knows the topic: groups
                // recovered at start may lead before that.
                java.util.concurrent.atomic.AtomicReference<io.idemlog.server.cluster.MetadataQuorum> quorumRef =
                    new java.util.concurrent.atomic.AtomicReference<>();
                groupsHere.setMetadataIndex(() -> {
                    io.idemlog.server.cluster.MetadataQuorum q = quorumRef.get();
                    return q == null ? -1L : q.appliedIndex();
                });
                groupsHere.setTopicConfigs(d -> {
                    io.idemlog.server.cluster.ClusterLogStore s = storeRef.get();
                    if (s == null) {
                        return null;
                    }
                    io.idemlog.server.cluster.ClusterImage.TopicState t = s.image().topic(d.topic());
                    io.idemlog.server.metadata.TopicConfig tc = s.topicConfig(d.topic());
                    return t == null || !t.id().equals(d.topicId()) || tc == null ? null : tc.applyTo(config.log);
                });
                io.idemlog.server.cluster.OffsetsStateMachine offsetsMachine = offsetsGroup.stateMachine();
                java.util.function.Function<org.apache.ratis.protocol.RaftGroupId,
                    org.apache.ratis.statemachine.StateMachine> partitionsRegistry = groupsHere.registry();
                quorum = io.idemlog.server.cluster.MetadataQuorum.start(config.cluster,
                    io.idemlog.server.cluster.MetadataQuorum.properties(config.cluster, 1000,
                        config.log.maxBatchBytes()),
                    id -> id.equals(io.idemlog.server.cluster.ClusterGroupCoordinator.GROUP_ID) ? offsetsMachine
                        : partitionsRegistry.apply(id));
                groupsHere.attach(quorum.server());
                quorumRef.set(quorum);
                io.idemlog.server.replication.PartitionGroups hosted = groupsHere;
                io.idemlog.server.cluster.ClusterLogStore cluster = new io.idemlog.server.cluster.ClusterLogStore(
                    quorum, hosted::partition, config.log, CLUSTER_ADMIN_TIMEOUT_MS);
                storeRef.set(cluster);
                offsetsGroup.start(quorum);
                groupsHere.setReplicaLagTimeMaxMs(config.replicaLagTimeMaxMs);
                groupsHere.setHighWatermarkListener(fetchWaits); // long-polling fetches wake on a replica's commit
                int brokerMinInsync = config.cluster.minInsyncReplicas();
                groupsHere.setMinInsync(d -> {
                    io.idemlog.server.metadata.TopicConfig tc = cluster.topicConfig(d.topic());
                    return tc == null ? brokerMinInsync : (int) tc.longValue("min.insync.replicas");
                });
                opened = cluster;
                node = new io.idemlog.server.cluster.ClusterNode(quorum, groupsHere, CLUSTER_RECONCILE_MS);
                nodeRef.set(node);
            }
            LOG.info("storage opened in {} ms: {} topics", (System.nanoTime() - t0) / 1_000_000,
                opened.topics().size());
            opened.setBrokerDefaults(TopicConfigDef.BrokerDefaults.of(config));
            if (config.cluster == null) {
                for (Map.Entry<String, Integer> e : config.createTopics.entrySet()) {
                    int n = opened.createTopic(e.getKey(), e.getValue());
                    if (n != e.getValue()) {
                        LOG.warn("topic {} exists with {} partitions (create.topics asks for {})", e.getKey(), n,
                            e.getValue());
                    }
                }
            }
            LogStore store = opened;
            if (config.cluster == null) {
                coordinator = new GroupCoordinatorService(config.groups, SystemEpochClock.INSTANCE,
                    new FileOffsetJournal(config.dataDir, config.offsetsCompactBytes),
                    tp -> store.partition(tp.topic(), tp.partition()) != null).start();
                GroupCoordinatorService groups = coordinator;
                opened.setTopicLifecycleListener(new TopicLifecycleListener() {
                    @Override
                    public void onTopicDeleted(String topic, UUID topicId, int partitions) {
                        // the topic's committed offsets go too (durably: the coordinator journals the deletions)
                        groups.submit(c -> c.onTopicsDeleted(Set.of(topic)));
                    }
                });
            }
            if (offsetsGroup != null) {
                io.idemlog.server.cluster.ClusterGroupCoordinator groups = offsetsGroup;
                opened.setTopicLifecycleListener(new TopicLifecycleListener() {
                    @Override
                    public void onTopicDeleted(String topic, UUID topicId, int partitions) {
                        // on the coordinator's node: the topic's committed offsets go too, through the offsets group
                        GroupCoordinatorService here = groups.local();
                        if (here != null) {
                            here.submit(c -> c.onTopicsDeleted(Set.of(topic)));
                        }
                    }
                });
            }
            BrokerContext broker = new BrokerContext(config, opened, clusterId, fetchWaits, metrics, blockingIo);
            net = new NetworkServer(new NetworkServer.Settings(config.listener.host(), config.listener.port(),
                config.networkThreads, config.socketRequestMaxBytes, config.maxQueuedRequestsPerConnection,
                config.connectionsMaxIdleMs, config.maxRequestBytes, config.requestReadTimeoutMs,
                config.oneAtATimeNonIdempotent),
                offsetsGroup == null ? Handlers.create(broker, coordinator)
                    : Handlers.create(broker, clusterCoordinators(offsetsGroup)));
            NetworkServer n = net;
            meters = MetricsService.start(new MetricsService.Settings(config.metricsHost, config.metricsPort,
                config.metricsJmx, config.metricsJmxDomain),
                new ServerMeters(metrics, net.metrics(), n::requestMemoryInUse, opened));
            port = net.start();
            if (node != null) {
                String host = config.advertisedListener != null ? config.advertisedListener.host()
                    : config.listener.host();
                int advertisedPort = config.advertisedListener != null ? config.advertisedListener.port() : port;
                node.registerBroker(host, advertisedPort, 1000);
                io.idemlog.server.cluster.ClusterLogStore cluster = (io.idemlog.server.cluster.ClusterLogStore) opened;
                if (!config.createTopics.isEmpty()) {
                    // through the quorum, which may not have a majority (or the brokers) yet: off the start path
                    Thread t = new Thread(() -> createConfiguredTopics(cluster, config.createTopics),
                        "idemlog-create-topics");
                    t.setDaemon(true);
                    t.start();
                }
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (offsetsGroup != null) {
                offsetsGroup.close();
            }
            if (node != null) {
                node.close();
            }
            if (quorum != null) {
                quorum.close();
            }
            if (groupsHere != null) {
                groupsHere.close();
            }
            if (meters != null) {
                meters.close();
            }
            if (net != null) {
                net.close();
            }
            stopBlockingIo();
            if (coordinator != null) {
                coordinator.close();
            }
            if (opened != null) {
                opened.close();
            }
            lock.release();
            lockChannel.close();
            throw e;
        }
        logs = opened;
        metadataQuorum = quorum;
        partitionGroups = groupsHere;
        clusterNode = node;
        clusterGroups = offsetsGroup;
        groupCoordinator = coordinator;
        network = net;
        metricsService = meters;
        if (config.metricsLogIntervalMs > 0) {
            metricsLogger = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "idemlog-metrics");
                t.setDaemon(true);
                return t;
            });
            metricsLogger.scheduleAtFixedRate(() -> LOG.info("counters {}", counters()),
                config.metricsLogIntervalMs, config.metricsLogIntervalMs, TimeUnit.MILLISECONDS);
        } else {
            metricsLogger = null;
        }
    }

    /**
     * Every counter: the request and produce counters, plus, summed over all partitions, the producers whose
     * state is kept and those evicted by producer.state.max.producers.per.partition.
     */
    public Map<String, Long> counters() {
        Map<String, Long> m = metrics.snapshot();
        long producers = 0;
        long evictions = 0;
        long dedupKeys = 0;
        long dedupEvictions = 0;
        for (Map.Entry<String, Integer> t : logs.topics().entrySet()) {
            long repeats = 0;
            for (int p = 0; p < t.getValue(); p++) {
                Partition partition = logs.partition(t.getKey(), p);
                if (partition != null) {
                    producers += partition.producerCount();
                    evictions += partition.producerEvictions();
                    repeats += partition.dedupRepeats();
                    dedupKeys += partition.dedupKeys();
                    dedupEvictions += partition.dedupEvictions();
                }
            }
            if (repeats > 0) {
                m.put("dedup.records_dropped." + t.getKey(), repeats);
            }
        }
        m.put("producer_state.producers", producers);
        m.put("producer_state.evictions", evictions);
        m.put("dedup.keys", dedupKeys);
        m.put("dedup.evictions", dedupEvictions);
        m.putAll(network.counters());
        return m;
    }

    /** Cluster mode: how often a partition leader proposes its expiry tick. */
    private static final long PARTITION_TICK_MS = 1000;
    /** Cluster mode: how long a topic admin request waits for the metadata quorum. */
    private static final long CLUSTER_ADMIN_TIMEOUT_MS = 30_000;
    /** Cluster mode: the period of the node's reconciliation with the metadata (besides after each entry). */
    private static final long CLUSTER_RECONCILE_MS = 500;

    /**
     * create.topics in cluster mode: each proposed once the quorum can place it (retried while too few brokers are
     * registered or the quorum does not answer, for at most two minutes); an existing topic is kept as it is.
     */
    private static void createConfiguredTopics(io.idemlog.server.cluster.ClusterLogStore cluster,
                                               Map<String, Integer> topics) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        for (Map.Entry<String, Integer> e : topics.entrySet()) {
            while (true) {
                try {
                    cluster.createTopic(e.getKey(), e.getValue(), -1, Map.of(), false);
                    break;
                } catch (io.idemlog.server.metadata.AdminException ex) {
                    boolean retry = ex.error() == io.idemlog.common.protocol.ErrorCode.INVALID_REPLICATION_FACTOR
                        || ex.error() == io.idemlog.common.protocol.ErrorCode.REQUEST_TIMED_OUT;
                    if (ex.error() == io.idemlog.common.protocol.ErrorCode.TOPIC_ALREADY_EXISTS) {
                        int n = cluster.partitionCount(e.getKey());
                        if (n != e.getValue()) {
                            LOG.warn("topic {} exists with {} partitions (create.topics asks for {})", e.getKey(), n,
                                e.getValue());
                        }
                        break;
                    }
                    if (!retry || System.nanoTime() > deadline) {
                        LOG.error("cannot create topic {} of create.topics: {}", e.getKey(), ex.getMessage());
                        break;
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
                } catch (IOException | RuntimeException ex) {
                    LOG.error("cannot create topic {} of create.topics", e.getKey(), ex);
                    break;
                }
            }
        }
    }

    /** Starts a server: locks and recovers the data directory, creates the configured topics, binds. */
    public static IdemlogServer start(ServerConfig config, StorageOpener opener)
        throws IOException, InterruptedException {
        return new IdemlogServer(config, opener);
    }

    /** The cluster id: configured, or generated once and kept in meta.properties (a mismatch refuses to start). */
    private static String clusterId(ServerConfig config) throws IOException {
        if (config.cluster != null) {
            // every node of a cluster reports the same id without cluster.id being configured: derived from the
            // voters (the same string on every node), kept in meta.properties like a generated one
            String derived = derivedClusterId(config.cluster);
            return MetaProperties.clusterId(config.dataDir, config.clusterId, config.nodeId, () -> derived);
        }
        return MetaProperties.clusterId(config.dataDir, config.clusterId, config.nodeId, IdemlogServer::uuidBase64);
    }

    /** The cluster id a cluster without cluster.id reports: a name-based UUID of its voters, base64. */
    static String derivedClusterId(io.idemlog.server.cluster.ClusterConfig cluster) {
        UUID u = UUID.nameUUIDFromBytes(("idemlog-cluster:" + cluster.voters())
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
            .putLong(u.getLeastSignificantBits());
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    /** Lets the blocking work already handed off finish (its answers go nowhere once the network is closed). */
    private void stopBlockingIo() {
        blockingIo.shutdown();
        try {
            if (!blockingIo.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("blocking storage work did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String uuidBase64() {
        UUID u = UUID.randomUUID();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
            .putLong(u.getLeastSignificantBits());
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    public int port() {
        return port;
    }

    public ServerConfig config() {
        return config;
    }

    public LogStore logs() {
        return logs;
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    /** The metrics registry and its outputs (the endpoint's port, a scrape). */
    public MetricsService metricsService() {
        return metricsService;
    }

    /** Cluster mode's metadata group member, or null on a single node. */
    public io.idemlog.server.cluster.MetadataQuorum metadataQuorum() {
        return metadataQuorum;
    }

    public String clusterId() {
        return clusterId;
    }

    /** The group APIs' view of the cluster's coordinator: the offsets group's leader, by its registered listener. */
    private static io.idemlog.server.handler.GroupCoordinators clusterCoordinators(
        io.idemlog.server.cluster.ClusterGroupCoordinator groups) {
        return new io.idemlog.server.handler.GroupCoordinators() {
            @Override
            public GroupCoordinatorService local() {
                return groups.local();
            }

            @Override
            public boolean clustered() {
                return true;
            }

            @Override
            public Endpoint coordinator() {
                io.idemlog.server.cluster.ClusterImage.BrokerState b = groups.coordinatorBroker();
                return b == null ? null : new Endpoint(b.nodeId(), b.host(), b.port());
            }
        };
    }

    /** The cluster's group coordinator (cluster mode), or null on a single node. */
    public io.idemlog.server.cluster.ClusterGroupCoordinator clusterGroups() {
        return clusterGroups;
    }

    /** Clean shutdown: stop the listener, then close storage (fsync, snapshots), then unlock the directory. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (metricsLogger != null) {
            metricsLogger.shutdownNow();
        }
        try {
            network.close();
            metricsService.close();
            if (clusterGroups != null) {
                clusterGroups.close(); // its coordinator first (answers what waits), while the Raft server runs
            }
            if (clusterNode != null) {
                clusterNode.close();
            }
            if (metadataQuorum != null) {
                metadataQuorum.close(); // the Raft server: every partition group with it
            }
            if (partitionGroups != null) {
                partitionGroups.close();
            }
        } finally {
            try {
                stopBlockingIo();
                if (groupCoordinator != null) {
                    groupCoordinator.close();
                }
                logs.close();
            } finally {
                lock.release();
                lockChannel.close();
            }
        }
        LOG.info("stopped; counters {}", metrics.snapshot());
    }
}
