package io.idemlog.server.log;

import io.idemlog.server.state.DurableFiles;
import io.idemlog.server.state.ProducerIdAllocator;
import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
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

    private record PendingDeletion(LogSegment segment, long deleteAtMs) {
    }

    private final Path topicsDir;
    private final LogConfig config;
    private final EpochClock clock;
    private final LogContext context;
    /** Set once every partition is loaded (it must start above their producer ids); never null afterwards. */
    private volatile ProducerIdAllocator producerIds;
    private final GroupCommitFlusher flusher;
    private final SegmentSealer sealer;
    private final StorageMetrics metrics = new StorageMetrics();
    private final ScheduledExecutorService maintenance;
    private final ConcurrentHashMap<String, PartitionLog[]> topics = new ConcurrentHashMap<>();
    /** Per-topic de-duplication settings overriding the broker default (config.dedup()). */
    private final ConcurrentHashMap<String, DedupConfig> topicDedup = new ConcurrentHashMap<>();
    /** Maintenance thread only (and close(), after that thread stopped). */
    private final ArrayDeque<PendingDeletion> pendingDeletions = new ArrayDeque<>();
    private long nextRetentionMs;
    private long nextExpiryMs;
    private boolean closed;

    private LogManager(Path dataDir, LogConfig config, EpochClock clock, HighWatermarkListener listener,
                       StorageIo io, Threads threads) {
        this.topicsDir = dataDir.resolve(LogFiles.TOPICS_DIR);
        this.config = config;
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

    /**
     * {@link #open(Path, LogConfig, EpochClock, HighWatermarkListener)} with the topics' own de-duplication settings
     * (topic name to setting), known before the partitions are recovered.
     */
    public static LogManager open(Path dataDir, LogConfig config, EpochClock clock, HighWatermarkListener listener,
                                  Map<String, DedupConfig> topicDedup) throws IOException {
        return open(dataDir, config, clock, listener, StorageIo.DIRECT, Threads.BACKGROUND, topicDedup);
    }

    static LogManager open(Path dataDir, LogConfig config, EpochClock clock, HighWatermarkListener listener,
                           StorageIo io, Threads threads) throws IOException {
        return open(dataDir, config, clock, listener, io, threads, Map.of());
    }

    static LogManager open(Path dataDir, LogConfig config, EpochClock clock, HighWatermarkListener listener,
                           StorageIo io, Threads threads, Map<String, DedupConfig> topicDedup) throws IOException {
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
        manager.topicDedup.putAll(topicDedup);
        try {
            manager.loadTopics();
            // Above every producer id any partition holds, even if the file is missing or older than the logs.
            long maxProducerId = -1L;
            for (PartitionLog p : manager.allPartitions()) {
                maxProducerId = Math.max(maxProducerId, p.maxProducerId());
            }
            manager.producerIds = ProducerIdAllocator.open(dataDir, ProducerIdAllocator.DEFAULT_BLOCK_SIZE,
                maxProducerId);
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

    private void loadTopics() throws IOException {
        Map<String, Integer> found = new TreeMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(topicsDir)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
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
            // A crash in the middle of createTopic may have left some partitions out: create them now.
            topics.put(e.getKey(), openPartitions(e.getKey(), e.getValue()));
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

    private PartitionLog[] openPartitions(String topic, int count) throws IOException {
        PartitionLog[] partitions = new PartitionLog[count];
        for (int i = 0; i < count; i++) {
            Path dir = topicsDir.resolve(LogFiles.partitionDirName(topic, i));
            Files.createDirectories(dir);
            try {
                partitions[i] = PartitionLoader.load(topic, i, dir, context, dedupConfig(topic));
            } catch (IOException | RuntimeException e) {
                for (int j = 0; j < i; j++) {
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
    public synchronized int createTopic(String topic, int partitions) throws IOException {
        if (!LogFiles.isValidTopicName(topic)) {
            throw new IllegalArgumentException("invalid topic name: " + topic);
        }
        if (partitions < 1 || partitions > MAX_PARTITIONS) {
            throw new IllegalArgumentException("partition count must be in [1, " + MAX_PARTITIONS + "]: "
                + partitions);
        }
        if (closed) {
            throw new IOException("the log store is closed");
        }
        PartitionLog[] existing = topics.get(topic);
        if (existing != null) {
            return existing.length;
        }
        topics.put(topic, openPartitions(topic, partitions));
        LOG.info("created topic {} with {} partition(s)", topic, partitions);
        return partitions;
    }

    /** The de-duplication setting of a topic: its own, or the broker default. */
    public DedupConfig dedupConfig(String topic) {
        return topicDedup.getOrDefault(topic, config.dedup());
    }

    /**
     * Gives a topic its own de-duplication setting (null: back to the broker default), applied at once to its
     * partitions if it exists, and to it when it is created or loaded later. Not persisted here: the caller (the
     * topic config registry) keeps it and hands it to {@link #open(Path, LogConfig, EpochClock,
     * HighWatermarkListener, Map)} on the next start, so that the partition's key window is recovered under the
     * same header.
     */
    public synchronized void dedupConfig(String topic, DedupConfig setting) {
        if (setting == null) {
            topicDedup.remove(topic);
        } else {
            topicDedup.put(topic, setting);
        }
        PartitionLog[] partitions = topics.get(topic);
        if (partitions != null) {
            DedupConfig effective = dedupConfig(topic);
            for (PartitionLog p : partitions) {
                p.dedup(effective);
            }
        }
    }

    @Override
    public long nextProducerId() throws IOException {
        return producerIds.nextProducerId();
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
        for (PendingDeletion d : pendingDeletions) {
            try {
                d.segment().close();
            } catch (IOException e) {
                // as a crash would
            }
        }
        pendingDeletions.clear();
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
