package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.metadata.MetadataRecord;
import io.idemlog.server.metadata.MetadataStore;
import io.idemlog.server.metadata.TopicConfig;
import io.idemlog.server.metadata.TopicConfigDef;
import io.idemlog.server.metadata.TopicsImage;
import io.idemlog.server.state.DurableFiles;
import io.idemlog.server.state.ProducerIdAllocator;
import io.idemlog.server.state.ProducerIdentities;
import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The {@link LogStore}: every partition under {@code data.dir/topics}, the producer id allocator, and three threads:
 * the group-commit flusher, the segment sealer (the fsyncs of rolls) and the maintenance thread (retention, producer
 * expiry, delayed file deletion).
 *
 * <p>Threads: request threads call the {@link LogStore} methods; {@code idemlog-flusher} fsyncs and completes
 * durability callbacks (as does a request thread in {@link Partition#flushNow}); {@code idemlog-log-seal} finishes
 * rolls; {@code idemlog-log-maintenance} ticks {@link #runMaintenance()}, which decides by the injected clock what is
 * due. Topic creation is serialised by this object's lock; lookups are lock-free.
 */
public final class LogManager implements LogStore {
    /** Whether the store runs its own threads, or a test drives {@link #flushOnce} and {@link #runMaintenance}. */
    enum Threads { BACKGROUND, MANUAL }

    private static final Logger LOG = LoggerFactory.getLogger(LogManager.class);
    private static final long MAX_TICK_MS = 1000L;
    private static final long MIN_TICK_MS = 10L;
    private static final int MAX_PARTITIONS = 100_000;
    /** Named producers whose identity is kept (docs/DEDUP.md); beyond it the least recently initialised goes. */
    static final int MAX_PRODUCER_NAMES = 100_000;

    private record PendingDeletion(LogSegment segment, long deleteAtMs) {
    }

    /** The partitions of a deleted topic, their directories already renamed, to close and delete at a time. */
    private record PendingTopicDeletion(String topic, PartitionLog[] partitions, Path[] dirs, long deleteAtMs) {
    }

    /** A topic's id and effective configuration (replaced as a whole on change). */
    private record TopicMeta(UUID id, TopicConfig config) {
    }

    /** Suffix of a deleted partition's directory until its files are removed. */
    static final String DELETE_DIR_SUFFIX = "-delete";

    private final Path topicsDir;
    private final LogConfig config;
    private final EpochClock clock;
    private final LogContext context;
    /** Set once every partition is loaded (it must start above their producer ids); never null afterwards. */
    private volatile ProducerIdAllocator producerIds;
    /** Named producers' stable identities (set once at open, like producerIds). */
    private volatile ProducerIdentities identities;
    private final GroupCommitFlusher flusher;
    private final SegmentSealer sealer;
    private final StorageMetrics metrics = new StorageMetrics();
    private final ScheduledExecutorService maintenance;
    private final ConcurrentHashMap<String, PartitionLog[]> topics = new ConcurrentHashMap<>();
    /** Id and effective config of every topic in {@link #topics}; written under this object's lock. */
    private final ConcurrentHashMap<String, TopicMeta> topicMeta = new ConcurrentHashMap<>();
    /** The durable topic metadata (ids, partition counts, configs): written before the directories change. */
    private MetadataStore metadata;
    private final TopicConfigDef configDef;
    private volatile TopicConfigDef.BrokerDefaults brokerDefaults;
    private volatile TopicLifecycleListener lifecycle = TopicLifecycleListener.NONE;
    private final ConcurrentLinkedQueue<PendingTopicDeletion> topicDeletions = new ConcurrentLinkedQueue<>();
    /**
     * Segments removed by retention (maintenance thread) or DeleteRecords (storage-io thread), to delete after the
     * delay; polled by the maintenance thread only (and close(), after that thread stopped).
     */
    private final ConcurrentLinkedQueue<PendingDeletion> pendingDeletions = new ConcurrentLinkedQueue<>();
    private long nextRetentionMs;
    private long nextExpiryMs;
    private boolean closed;

    private LogManager(Path dataDir, LogConfig config, EpochClock clock, HighWatermarkListener listener,
                       StorageIo io, Threads threads) {
        this.topicsDir = dataDir.resolve(LogFiles.TOPICS_DIR);
        this.config = config;
        this.configDef = TopicConfigDef.STANDARD;
        this.brokerDefaults = TopicConfigDef.BrokerDefaults.of(config, Map.of(), java.util.Set.of());
        this.clock = clock;
        this.flusher = new GroupCommitFlusher(metrics);
        this.sealer = new SegmentSealer();
        this.context = new LogContext(config, clock, io, flusher, sealer, listener, metrics);
        this.maintenance = threads == Threads.BACKGROUND ? Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idemlog-log-maintenance");
            t.setDaemon(true);
            return t;
        }) : null;
        long now = clock.time();
        this.nextRetentionMs = now;
        this.nextExpiryMs = now;
    }

    /**
     * Opens (creating it if needed) the data directory, recovers every partition found in it, and starts the flusher
     * and maintenance threads.
     *
     * @param clock    the server clock, used for every time decision (expiry, retention, rolling)
     * @param listener told on the flusher thread when a partition's high watermark advances
     * @throws IOException when the directory cannot be used or a partition cannot be recovered
     */
    public static LogManager open(Path dataDir, LogConfig config, EpochClock clock, HighWatermarkListener listener)
        throws IOException {
        return open(dataDir, config, clock, listener, StorageIo.DIRECT, Threads.BACKGROUND);
    }

    static LogManager open(Path dataDir, LogConfig config, EpochClock clock, HighWatermarkListener listener,
                           StorageIo io, Threads threads) throws IOException {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(listener, "listener");
        validate(config);
        Path topicsDir = dataDir.resolve(LogFiles.TOPICS_DIR);
        if (!Files.isDirectory(topicsDir)) {
            Files.createDirectories(topicsDir);
            // a new directory entry is durable only once its parent is fsync'd
            DurableFiles.fsyncDirectory(dataDir);
            Path parent = dataDir.toAbsolutePath().getParent();
            if (parent != null) {
                DurableFiles.fsyncDirectory(parent);
            }
        }
        // A damaged producer-ids file refuses to start: find out before loading every partition.
        ProducerIdAllocator.readIfExists(dataDir);
        LogManager manager = new LogManager(dataDir, config, clock, listener, io, threads);
        try {
            manager.metadata = MetadataStore.open(dataDir);
            manager.loadTopics();
            // Above every producer id any partition holds, even if the file is missing or older than the logs.
            long maxProducerId = -1L;
            for (PartitionLog p : manager.allPartitions()) {
                maxProducerId = Math.max(maxProducerId, p.maxProducerId());
            }
            manager.producerIds = ProducerIdAllocator.open(dataDir, ProducerIdAllocator.DEFAULT_BLOCK_SIZE,
                maxProducerId);
            manager.identities = ProducerIdentities.open(dataDir, MAX_PRODUCER_NAMES);
        } catch (IOException | RuntimeException e) {
            manager.abandon();
            throw e;
        }
        if (threads == Threads.BACKGROUND) {
            manager.flusher.start();
            manager.sealer.start();
            long tick = Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, Math.min(config.fileDeleteDelayMs(),
                Math.min(config.retentionCheckIntervalMs(), config.producerIdExpirationCheckIntervalMs()))));
            manager.maintenance.scheduleWithFixedDelay(manager::runMaintenanceSafely, tick, tick,
                TimeUnit.MILLISECONDS);
        }
        return manager;
    }

    private static void validate(LogConfig config) {
        require(config.segmentBytes() > 0 && config.segmentBytes() <= Integer.MAX_VALUE - (long) config.maxBatchBytes(),
            "segmentBytes must be in (0, 2 GiB - maxBatchBytes]: " + config.segmentBytes());
        require(config.segmentMs() > 0, "segmentMs must be > 0: " + config.segmentMs());
        require(config.retentionCheckIntervalMs() > 0, "retentionCheckIntervalMs must be > 0");
        require(config.indexIntervalBytes() >= 0, "indexIntervalBytes must be >= 0");
        require(config.maxBatchBytes() > 0, "maxBatchBytes must be > 0");
        require(config.producerIdExpirationMs() > 0, "producerIdExpirationMs must be > 0");
        require(config.producerIdExpirationCheckIntervalMs() > 0, "producerIdExpirationCheckIntervalMs must be > 0");
        require(config.maxProducersPerPartition() > 0, "maxProducersPerPartition must be > 0");
        require(config.fileDeleteDelayMs() >= 0, "fileDeleteDelayMs must be >= 0");
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Opens every topic the metadata knows, creating partition directories a crash left out (the metadata record
     * is written before the directories). Directories of a deletion that a crash interrupted are removed. A data
     * directory from before topic metadata existed has its topics adopted (new ids, no overrides); after that a
     * partition directory the metadata does not know can only be left over from a deletion, and is removed.
     */
    private void loadTopics() throws IOException {
        Map<String, Integer> found = new TreeMap<>();
        List<Path> leftovers = new java.util.ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(topicsDir)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (name.endsWith(DELETE_DIR_SUFFIX) && Files.isDirectory(dir)) {
                    leftovers.add(dir);
                    continue;
                }
                int dash = name.lastIndexOf('-');
                int partition = dash > 0 ? parsePartition(name.substring(dash + 1)) : -1;
                String topic = dash > 0 ? name.substring(0, dash) : name;
                if (!Files.isDirectory(dir) || partition < 0 || !LogFiles.isValidTopicName(topic)) {
                    LOG.warn("ignoring {}: not a partition directory", dir);
                    continue;
                }
                found.merge(topic, partition + 1, Math::max);
            }
        }
        for (Map.Entry<String, Integer> e : found.entrySet()) {
            TopicsImage.Topic known = metadata.topic(e.getKey());
            if (known == null && metadata.isNew()) {
                metadata.append(new MetadataRecord.TopicCreated(e.getKey(), newTopicId(), e.getValue(), Map.of()));
                LOG.info("topic {} ({} partitions) found on disk without metadata: adopted", e.getKey(), e.getValue());
            } else if (known == null || e.getValue() > known.partitions()) {
                int from = known == null ? 0 : known.partitions();
                for (int i = from; i < e.getValue(); i++) {
                    Path dir = topicsDir.resolve(LogFiles.partitionDirName(e.getKey(), i));
                    if (Files.isDirectory(dir)) {
                        LOG.warn("{}: left over from a deleted topic (the topic metadata does not have it); removing "
                            + "it", dir);
                        Path moved = dir.resolveSibling(dir.getFileName() + "." + System.nanoTime() + DELETE_DIR_SUFFIX);
                        Files.move(dir, moved, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                        leftovers.add(moved);
                    }
                }
            }
        }
        if (!leftovers.isEmpty()) {
            DurableFiles.fsyncDirectory(topicsDir);
            for (Path dir : leftovers) {
                LOG.info("removing {} (a deleted topic's partition)", dir);
                deleteRecursively(dir);
            }
        }
        for (TopicsImage.Topic t : metadata.topics().values()) {
            TopicConfig tc = new TopicConfig(configDef, t.configs(), brokerDefaults);
            List<String> unknown = t.configs().keySet().stream().filter(k -> configDef.key(k) == null).toList();
            if (!unknown.isEmpty()) {
                LOG.warn("topic {} has configs this server does not define (kept, not applied): {}", t.name(), unknown);
            }
            topics.put(t.name(), openPartitions(t.name(), 0, t.partitions(), effective(tc)));
            topicMeta.put(t.name(), new TopicMeta(t.id(), tc));
        }
    }

    private LogConfig effective(TopicConfig tc) {
        try {
            LogConfig c = tc.applyTo(config);
            validate(c);
            return c;
        } catch (RuntimeException e) {
            LOG.warn("topic configs {} do not apply ({}); using the broker's", tc, e.getMessage());
            return config;
        }
    }

    /** A random topic id as Kafka makes them: not the reserved zero/one ids, no leading '-' in its base64. */
    private static UUID newTopicId() {
        while (true) {
            UUID id = UUID.randomUUID();
            if ((id.getMostSignificantBits() == 0 && id.getLeastSignificantBits() <= 1)
                || uuidBase64(id).startsWith("-")) {
                continue;
            }
            return id;
        }
    }

    /** Kafka's text form of a topic id: URL-safe base64 of the 16 bytes, no padding. */
    public static String uuidBase64(UUID id) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).putLong(id.getMostSignificantBits())
            .putLong(id.getLeastSignificantBits());
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    static void deleteRecursively(Path dir) {
        try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("cannot delete {}", dir, e);
        }
    }

    private static int parsePartition(String s) {
        if (s.isEmpty() || s.length() > 6) {
            return -1;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i))) {
                return -1;
            }
        }
        return Integer.parseInt(s);
    }

    /** Opens (creating when missing) partitions {@code [from, to)} of a topic with these storage settings. */
    private PartitionLog[] openPartitions(String topic, int from, int to, LogConfig partitionConfig)
        throws IOException {
        PartitionLog[] partitions = new PartitionLog[to - from];
        for (int i = from; i < to; i++) {
            Path dir = topicsDir.resolve(LogFiles.partitionDirName(topic, i));
            Files.createDirectories(dir);
            try {
                partitions[i - from] = PartitionLoader.load(topic, i, dir, context, partitionConfig.dedup());
                partitions[i - from].reconfigure(partitionConfig);
            } catch (IOException | RuntimeException e) {
                for (int j = 0; j < i - from; j++) {
                    partitions[j].abandon();
                }
                throw e;
            }
        }
        DurableFiles.fsyncDirectory(topicsDir);
        return partitions;
    }

    @Override
    public Partition partition(String topic, int index) {
        PartitionLog[] partitions = topics.get(topic);
        return partitions == null || index < 0 || index >= partitions.length ? null : partitions[index];
    }

    @Override
    public int partitionCount(String topic) {
        PartitionLog[] partitions = topics.get(topic);
        return partitions == null ? -1 : partitions.length;
    }

    @Override
    public Map<String, Integer> topics() {
        Map<String, Integer> result = new TreeMap<>();
        topics.forEach((topic, partitions) -> result.put(topic, partitions.length));
        return Collections.unmodifiableMap(result);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException when the name is not 1..249 characters of [a-zA-Z0-9._-], is "." or "..", or
     *                                  the partition count is not in [1, 100000]
     */
    @Override
    public UUID createTopic(String topic, int partitions, Map<String, String> configs, boolean validateOnly)
        throws IOException, AdminException {
        UUID id;
        synchronized (this) {
            if (!LogFiles.isValidTopicName(topic)) {
                throw new AdminException(ErrorCode.INVALID_TOPIC_EXCEPTION, "invalid topic name '" + topic
                    + "': 1-249 characters of a-z A-Z 0-9 . _ -, not '.' or '..'");
            }
            if (partitions < 1 || partitions > MAX_PARTITIONS) {
                throw new AdminException(ErrorCode.INVALID_PARTITIONS, "partition count must be in [1, "
                    + MAX_PARTITIONS + "]: " + partitions);
            }
            if (closed) {
                throw new IOException("the log store is closed");
            }
            if (topics.containsKey(topic)) {
                throw new AdminException(ErrorCode.TOPIC_ALREADY_EXISTS, "Topic '" + topic + "' already exists.");
            }
            TopicConfig tc = checkConfigs(configs);
            LogConfig partitionConfig = effectiveOrRefuse(tc);
            if (validateOnly) {
                return null;
            }
            id = newTopicId();
            metadata.append(new MetadataRecord.TopicCreated(topic, id, partitions, configs));
            topics.put(topic, openPartitions(topic, 0, partitions, partitionConfig));
            topicMeta.put(topic, new TopicMeta(id, tc));
            LOG.info("created topic {} (id {}) with {} partition(s), configs {}", topic, uuidBase64(id), partitions,
                tc);
        }
        fire(l -> l.onTopicCreated(topic, id, partitions));
        return id;
    }

    private TopicConfig checkConfigs(Map<String, String> configs) throws AdminException {
        List<String> problems = configDef.problems(configs);
        if (!problems.isEmpty()) {
            throw new AdminException(ErrorCode.INVALID_CONFIG, String.join("; ", problems));
        }
        return new TopicConfig(configDef, configs, brokerDefaults);
    }

    private LogConfig effectiveOrRefuse(TopicConfig tc) throws AdminException {
        try {
            LogConfig c = tc.applyTo(config);
            validate(c);
            return c;
        } catch (IllegalArgumentException e) {
            throw new AdminException(ErrorCode.INVALID_CONFIG, "the topic configs do not fit together: "
                + e.getMessage());
        }
    }

    @Override
    public void deleteTopic(String topic) throws IOException, AdminException {
        UUID id;
        int count;
        synchronized (this) {
            if (closed) {
                throw new IOException("the log store is closed");
            }
            PartitionLog[] parts = topics.get(topic);
            TopicMeta meta = topicMeta.get(topic);
            if (parts == null || meta == null) {
                throw new AdminException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host topic '"
                    + topic + "'.");
            }
            id = meta.id();
            count = parts.length;
            // The decision first: after a crash from here on, start-up removes whatever directories are left.
            metadata.append(new MetadataRecord.TopicDeleted(id));
            topics.remove(topic);
            topicMeta.remove(topic);
            Path[] moved = new Path[parts.length];
            for (int i = 0; i < parts.length; i++) {
                parts[i].retire();
                Path dir = parts[i].dir();
                moved[i] = dir.resolveSibling(dir.getFileName() + "." + uuidHex(id) + DELETE_DIR_SUFFIX);
                try {
                    Files.move(dir, moved[i], java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    LOG.error("cannot rename {} for deletion; it is removed at the next start", dir, e);
                    moved[i] = null;
                }
            }
            try {
                DurableFiles.fsyncDirectory(topicsDir);
            } catch (IOException e) {
                LOG.warn("cannot fsync {} after deleting topic {}", topicsDir, topic, e);
            }
            topicDeletions.add(new PendingTopicDeletion(topic, parts, moved,
                clock.time() + config.fileDeleteDelayMs()));
            LOG.info("deleted topic {} (id {}, {} partition(s)); its files go in {} ms", topic, uuidBase64(id),
                count, config.fileDeleteDelayMs());
        }
        fire(l -> l.onTopicDeleted(topic, id, count));
    }

    @Override
    public long deleteRecords(String topic, int partition, long offset) throws IOException, AdminException {
        synchronized (this) {
            if (closed) {
                throw new IOException("the log store is closed");
            }
            PartitionLog p = (PartitionLog) partition(topic, partition);
            if (p == null) {
                throw new AdminException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host "
                    + topic + "-" + partition + ".");
            }
            PartitionLog.LogStartAdvance done = p.advanceLogStart(offset);
            long deleteAt = clock.time() + config.fileDeleteDelayMs();
            for (LogSegment s : done.removed()) {
                pendingDeletions.add(new PendingDeletion(s, deleteAt));
            }
            return done.logStartOffset();
        }
    }

    private static String uuidHex(UUID id) {
        return String.format("%016x%016x", id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    @Override
    public void createPartitions(String topic, int totalCount, boolean validateOnly)
        throws IOException, AdminException {
        UUID id;
        synchronized (this) {
            if (closed) {
                throw new IOException("the log store is closed");
            }
            PartitionLog[] parts = topics.get(topic);
            TopicMeta meta = topicMeta.get(topic);
            if (parts == null || meta == null) {
                throw new AdminException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host topic '"
                    + topic + "'.");
            }
            if (totalCount <= parts.length) {
                throw new AdminException(ErrorCode.INVALID_PARTITIONS, "Topic currently has " + parts.length
                    + " partitions, which is higher than or equal to the requested " + totalCount + ".");
            }
            if (totalCount > MAX_PARTITIONS) {
                throw new AdminException(ErrorCode.INVALID_PARTITIONS, "partition count must be at most "
                    + MAX_PARTITIONS + ": " + totalCount);
            }
            if (validateOnly) {
                return;
            }
            id = meta.id();
            metadata.append(new MetadataRecord.PartitionsAdded(id, totalCount));
            PartitionLog[] added = openPartitions(topic, parts.length, totalCount, effective(meta.config()));
            PartitionLog[] grown = Arrays.copyOf(parts, totalCount);
            System.arraycopy(added, 0, grown, parts.length, added.length);
            topics.put(topic, grown);
            LOG.info("topic {} now has {} partitions (was {})", topic, totalCount, parts.length);
        }
        fire(l -> l.onPartitionsAdded(topic, id, totalCount));
    }

    @Override
    public void alterTopicConfig(String topic, Map<String, String> overrides, boolean validateOnly)
        throws IOException, AdminException {
        synchronized (this) {
            if (closed) {
                throw new IOException("the log store is closed");
            }
            PartitionLog[] parts = topics.get(topic);
            TopicMeta meta = topicMeta.get(topic);
            if (parts == null || meta == null) {
                throw new AdminException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host topic '"
                    + topic + "'.");
            }
            TopicConfig tc = checkConfigs(overrides);
            LogConfig partitionConfig = effectiveOrRefuse(tc);
            if (validateOnly) {
                return;
            }
            metadata.append(new MetadataRecord.ConfigsReplaced(meta.id(), overrides));
            topicMeta.put(topic, new TopicMeta(meta.id(), tc));
            for (PartitionLog p : parts) {
                p.reconfigure(partitionConfig);
            }
            LOG.info("topic {} configs are now {}", topic, tc);
        }
    }

    @Override
    public UUID topicId(String topic) {
        TopicMeta m = topicMeta.get(topic);
        return m == null ? null : m.id();
    }

    @Override
    public String topicName(UUID id) {
        for (Map.Entry<String, TopicMeta> e : topicMeta.entrySet()) {
            if (e.getValue().id().equals(id)) {
                return e.getKey();
            }
        }
        return null;
    }

    @Override
    public TopicConfig topicConfig(String topic) {
        TopicMeta m = topicMeta.get(topic);
        return m == null ? null : m.config();
    }

    @Override
    public TopicConfig newTopicConfig(Map<String, String> overrides) {
        return new TopicConfig(configDef, overrides, brokerDefaults);
    }

    @Override
    public TopicConfigDef topicConfigDef() {
        return configDef;
    }

    /**
     * Replaces the broker side of the topic config defaults (the server calls this once after opening, with its
     * configuration's values and which of them the operator set), and re-applies every topic's effective config.
     */
    @Override
    public synchronized void setBrokerDefaults(TopicConfigDef.BrokerDefaults defaults) {
        brokerDefaults = Objects.requireNonNull(defaults, "defaults");
        for (Map.Entry<String, TopicMeta> e : topicMeta.entrySet()) {
            TopicConfig tc = new TopicConfig(configDef, e.getValue().config().overrides(), defaults);
            e.setValue(new TopicMeta(e.getValue().id(), tc));
            LogConfig c = effective(tc);
            for (PartitionLog p : topics.getOrDefault(e.getKey(), new PartitionLog[0])) {
                p.reconfigure(c);
            }
        }
    }

    @Override
    public void setTopicLifecycleListener(TopicLifecycleListener listener) {
        lifecycle = listener == null ? TopicLifecycleListener.NONE : listener;
    }

    private void fire(java.util.function.Consumer<TopicLifecycleListener> event) {
        try {
            event.accept(lifecycle);
        } catch (RuntimeException e) {
            LOG.error("topic lifecycle listener failed", e);
        }
    }

    /**
     * The de-duplication setting a topic's partitions apply now (its dedup.* topic configs, else the broker's
     * log.dedup.*), or null when the topic does not exist.
     */
    public DedupConfig dedupConfig(String topic) {
        PartitionLog[] partitions = topics.get(topic);
        return partitions == null || partitions.length == 0 ? null : partitions[0].dedup();
    }

    @Override
    public long nextProducerId() throws IOException {
        return producerIds.nextProducerId();
    }

    @Override
    public ProducerIdentities.Identity initNamedProducer(String name) throws IOException {
        return identities.init(name, this::nextProducerId);
    }

    @Override
    public long namedProducerEpoch(long producerId) {
        ProducerIdentities ids = identities;
        return ids == null ? -1L : ids.currentEpoch(producerId);
    }

    /**
     * What the storage threads would do next, for tests that drive the store step by step: the pending seals of
     * rolls (the sealer thread), then one group-commit round (the flusher thread). Returns the flusher's count.
     */
    int flushOnce() {
        sealer.runOnce();
        return flusher.runOnce();
    }

    /** One group-commit round only, leaving rolls unsealed (tests of the seal's effect on the high watermark). */
    int commitOnce() {
        return flusher.runOnce();
    }

    /** The pending seals only (the sealer thread's work). */
    int sealOnce() {
        return sealer.runOnce();
    }

    @Override
    public StorageMetrics metrics() {
        return metrics;
    }

    /**
     * One maintenance tick: retention every retentionCheckIntervalMs, producer expiry every
     * producerIdExpirationCheckIntervalMs, and deletion of the files of removed segments once fileDeleteDelayMs has
     * passed; all by the injected clock.
     */
    void runMaintenance() {
        long now = clock.time();
        if (now >= nextRetentionMs) {
            nextRetentionMs = now + config.retentionCheckIntervalMs();
            for (PartitionLog p : allPartitions()) {
                for (LogSegment removed : p.applyRetention(now)) {
                    pendingDeletions.add(new PendingDeletion(removed, now + config.fileDeleteDelayMs()));
                }
            }
        }
        if (now >= nextExpiryMs) {
            nextExpiryMs = now + config.producerIdExpirationCheckIntervalMs();
            for (PartitionLog p : allPartitions()) {
                p.expireProducers(now);
            }
        }
        while (!pendingDeletions.isEmpty() && pendingDeletions.peek().deleteAtMs() <= now) {
            deleteFiles(pendingDeletions.poll().segment());
        }
        PendingTopicDeletion t;
        while ((t = topicDeletions.peek()) != null && t.deleteAtMs() <= now) {
            topicDeletions.poll();
            removeTopicFiles(t);
        }
    }

    private static void removeTopicFiles(PendingTopicDeletion t) {
        for (int i = 0; i < t.partitions().length; i++) {
            t.partitions()[i].closeFiles();
            if (t.dirs()[i] != null) {
                deleteRecursively(t.dirs()[i]);
            }
        }
        LOG.info("removed the files of deleted topic {}", t.topic());
    }

    private void runMaintenanceSafely() {
        try {
            runMaintenance();
        } catch (RuntimeException e) {
            LOG.error("log maintenance failed", e);
        }
    }

    private static void deleteFiles(LogSegment segment) {
        try {
            segment.deleteFiles();
        } catch (IOException e) {
            LOG.warn("cannot delete {}", segment, e);
        }
    }

    private List<PartitionLog> allPartitions() {
        return topics.values().stream().flatMap(Arrays::stream).toList();
    }

    /**
     * Clean shutdown: stops maintenance, stops the flusher and runs a last group commit (every appended batch
     * becomes durable and its callback completes), then each partition fsyncs, writes its index and a producer
     * snapshot at its log end, and closes its files.
     */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stopThreads();
        // Seals first: their high watermark advance completes callbacks the last group commit then need not wait on.
        sealer.runOnce();
        flusher.runOnce();
        IOException failure = null;
        if (identities != null) {
            try {
                identities.close();
            } catch (IOException e) {
                failure = e;
            }
        }
        for (PartitionLog p : allPartitions()) {
            try {
                p.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        while (!pendingDeletions.isEmpty()) {
            deleteFiles(pendingDeletions.poll().segment());
        }
        PendingTopicDeletion t;
        while ((t = topicDeletions.poll()) != null) {
            removeTopicFiles(t);
        }
        if (metadata != null) {
            metadata.close();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Stops everything without flushing, snapshotting or sealing, leaving the files as a crash (kill -9) would;
     * for recovery tests.
     */
    void abandon() {
        synchronized (this) {
            closed = true;
        }
        stopThreads();
        for (PartitionLog p : allPartitions()) {
            p.abandon();
        }
        if (identities != null) {
            try {
                identities.close(); // every record was fsync'd when written: nothing is lost by closing
            } catch (IOException e) {
                // as a crash would
            }
        }
        for (PendingDeletion d : pendingDeletions) {
            try {
                d.segment().close();
            } catch (IOException e) {
                // as a crash would
            }
        }
        pendingDeletions.clear();
        PendingTopicDeletion t;
        while ((t = topicDeletions.poll()) != null) {
            for (PartitionLog p : t.partitions()) {
                p.closeFiles();
            }
        }
        if (metadata != null) {
            try {
                metadata.close();
            } catch (IOException e) {
                // as a crash would
            }
        }
    }

    private void stopThreads() {
        if (maintenance != null) {
            maintenance.shutdown();
            try {
                if (!maintenance.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.warn("log maintenance did not stop within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            flusher.stop();
            sealer.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    PartitionLog partitionLog(String topic, int index) {
        return (PartitionLog) partition(topic, index);
    }
}
