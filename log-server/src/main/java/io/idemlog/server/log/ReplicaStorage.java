package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.DurableFiles;
import io.idemlog.server.state.KeyWindowFile;
import io.idemlog.server.state.LeaderEpochFile;
import io.idemlog.server.state.LogStartOffsetFile;
import io.idemlog.server.state.ProducerSnapshotFile;
import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cluster mode's storage of replicated partitions (docs/REPLICATION.md 4.2-4.3): the same segment files, producer
 * state, key windows and leader epochs as a single node's {@link PartitionLog}, in a directory the partition's Raft
 * state machine owns, with one flusher and one storage thread for every partition of this node. The state machine
 * is the single writer: it applies committed entries with {@link Log#apply} (time and epoch from the entry).
 *
 * <p>The high watermark is the applied end (only committed entries are applied, so it is never above the Raft commit
 * index): the segments are not fsync'd per group commit, since the Raft log, fsync'd by a majority before an entry
 * is committed, is the durable copy. They are fsync'd when a snapshot is taken (before Ratis purges its log up to
 * it) and when a rolled segment is sealed; after a crash the directory is cut to the newest snapshot and Ratis
 * replays the entries after it (built 2026-12-03; before, each group commit fsync'd the segment too: two fsyncs per
 * entry per node, the cluster benchmark's 14k-18k fsyncs per million records).
 */
public final class ReplicaStorage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaStorage.class);

    private final LogContext context;
    private final GroupCommitFlusher flusher;
    private final SegmentSealer sealer;
    /** Deletes the files of segments below the log start offset once the delete delay has passed. */
    private final java.util.concurrent.ScheduledExecutorService deleter;

    public ReplicaStorage(LogConfig config, EpochClock clock, HighWatermarkListener listener) {
        StorageMetrics metrics = new StorageMetrics();
        this.flusher = new GroupCommitFlusher(metrics);
        this.sealer = new SegmentSealer();
        // Rolls are decided by the applier from the entry's time (deterministic). Retention is not run here: the
        // leader decides it and proposes the new log start offset as an entry (PartitionGroups).
        this.context = new LogContext(config, clock, StorageIo.DIRECT, flusher, sealer, listener, metrics, true);
        this.deleter = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idemlog-replica-deleter");
            t.setDaemon(true);
            return t;
        });
        flusher.start();
        sealer.start();
    }

    /**
     * Deletes the files of removed segments after log.segment.delete.delay.ms (fetches in flight keep reading their
     * open channel meanwhile); a restart before then deletes the renamed files (PartitionLoader).
     */
    void deleteLater(List<LogSegment> removed) {
        if (removed.isEmpty()) {
            return;
        }
        try {
            deleter.schedule(() -> {
                for (LogSegment s : removed) {
                    try {
                        s.deleteFiles();
                    } catch (IOException e) {
                        LOG.warn("cannot delete {}", s, e);
                    }
                }
            }, context.config().fileDeleteDelayMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: the renamed files go at the next start
        }
    }

    public LogConfig config() {
        return context.config();
    }

    /**
     * Opens the partition stored in {@code dir} after cutting it to {@code manifest} (null: to empty), the snapshot
     * with Raft index {@code id}: Ratis replays the entries after the snapshot through {@link Log#apply}, and apply
     * is deterministic, so whatever the cut removes comes back byte for byte.
     */
    public Log open(String topic, int index, Path dir, DedupConfig dedup, Manifest manifest, long id)
        throws IOException {
        Files.createDirectories(dir);
        cut(dir, manifest, id);
        PartitionLog log = PartitionLoader.load(topic, index, dir, context, dedup);
        if (manifest != null && manifest.activeRollBaseMs >= 0) {
            // recovery guessed the roll clock from the batches' timestamps and this node's clock: the snapshot has it
            log.restoreActiveRollBase(manifest.bases[manifest.bases.length - 1], manifest.activeRollBaseMs);
        }
        return new Log(log, this);
    }

    /** A Raft snapshot's own producer state file (the state at its log end and Raft index {@code id}). */
    public static Path producerStateFile(Path dir, long id) {
        return dir.resolve(String.format("%s%020d%s", STATE_PREFIX, id, PRODUCERS_SUFFIX));
    }

    /** A Raft snapshot's own key window file (de-duplicating topics only). */
    public static Path keyStateFile(Path dir, long id) {
        return dir.resolve(String.format("%s%020d%s", STATE_PREFIX, id, KEYS_SUFFIX));
    }

    static final String STATE_PREFIX = "raft-state.";
    static final String PRODUCERS_SUFFIX = ".producers";
    static final String KEYS_SUFFIX = ".keys";

    /**
     * Deletes the snapshot state files of every Raft index but {@code keep} (the snapshots whose manifests are
     * kept): the state machine calls it after writing a manifest.
     */
    public static void retainStateFiles(Path dir, java.util.Set<Long> keep) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, STATE_PREFIX + "*")) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                int end = n.endsWith(PRODUCERS_SUFFIX) ? n.length() - PRODUCERS_SUFFIX.length()
                    : n.endsWith(KEYS_SUFFIX) ? n.length() - KEYS_SUFFIX.length() : -1;
                if (end < 0) {
                    continue;
                }
                try {
                    if (!keep.contains(Long.parseLong(n.substring(STATE_PREFIX.length(), end)))) {
                        Files.deleteIfExists(f);
                    }
                } catch (NumberFormatException e) {
                    // not one of ours
                }
            }
        }
    }

    /**
     * What a Raft snapshot of a partition is: the log end, the log start offset (-1: not recorded, a manifest written
     * before DeleteRecords and retention replicated; the first segment's base then), the active segment's roll clock
     * (the leader's time of its first entry, -1: empty or not recorded) and every segment not entirely below the log
     * start (base offset, bytes) at the snapshot. Written by the state machine next to the data.
     */
    public record Manifest(long logEndOffset, long logStartOffset, long activeRollBaseMs, long[] bases,
                           long[] sizes) {
        /** From {@link PartitionLog#snapshotForReplication}'s {@code {logEnd, logStart, rollBase, base0, size0, ...}}. */
        public static Manifest of(long[] packed) {
            int n = (packed.length - 3) / 2;
            long[] bases = new long[n];
            long[] sizes = new long[n];
            for (int i = 0; i < n; i++) {
                bases[i] = packed[3 + 2 * i];
                sizes[i] = packed[4 + 2 * i];
            }
            return new Manifest(packed[0], packed[1], packed[2], bases, sizes);
        }

        /**
         * The files a snapshot install ships (those that exist), relative to the partition directory: the segments,
         * the snapshot's own state files (Raft index {@code id}; a manifest written before they existed: the
         * ordinary state snapshots at its log end) and the leader epochs.
         */
        public List<Path> files(Path dir, long id) {
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < bases.length; i++) {
                Path log = LogFiles.logFile(dir, bases[i]);
                files.add(Files.exists(log) ? log : LogFiles.pendingLogFile(dir, bases[i]));
                Path idx = LogFiles.indexFile(dir, bases[i]);
                if (i < bases.length - 1 && Files.exists(idx)) {
                    files.add(idx);
                }
            }
            Path own = producerStateFile(dir, id);
            if (Files.exists(own)) {
                files.add(own);
                addIfExists(files, keyStateFile(dir, id));
            } else {
                addIfExists(files, ProducerSnapshotFile.path(dir, logEndOffset));
                addIfExists(files, KeyWindowFile.path(dir, logEndOffset));
            }
            addIfExists(files, LeaderEpochFile.path(dir));
            return files;
        }

        private static void addIfExists(List<Path> files, Path p) {
            if (Files.exists(p)) {
                files.add(p);
            }
        }
    }

    /**
     * Cuts the directory to the manifest: segments not in it are deleted, those in it truncated to their recorded
     * size (the last one's index file deleted: recovery rebuilds it). The producer state and key window become the
     * snapshot's own files ({@link #producerStateFile}, {@link #keyStateFile} of Raft index {@code id}), copied to
     * the ordinary names at the log end, every other state snapshot deleted: recovery then loads exactly the state
     * at the snapshot and replays no batch (a replay of batches from an older snapshot would miss what the Tick
     * entries between them expired, and make this replica's producer state differ from the others'). With no
     * manifest every data file goes (the state machine starts empty and Ratis replays its whole log).
     */
    static void cut(Path dir, Manifest manifest, long id) throws IOException {
        Map<Long, Long> keep = new HashMap<>();
        long last = -1;
        if (manifest != null) {
            for (int i = 0; i < manifest.bases.length; i++) {
                keep.put(manifest.bases[i], manifest.sizes[i]);
                last = Math.max(last, manifest.bases[i]);
                long base = manifest.bases[i];
                if (!Files.exists(LogFiles.logFile(dir, base)) && !Files.exists(LogFiles.pendingLogFile(dir, base))) {
                    throw new IOException(LogFiles.logFile(dir, base) + " is missing, but snapshot " + id + " of " + dir
                        + " names it (segment " + base + ", " + manifest.sizes[i] + " bytes): damaged; move the "
                        + "directory away to let the replica be rebuilt from the leader");
                }
            }
        }
        String pendingSuffix = LogFiles.LOG_SUFFIX + LogFiles.PENDING_SUFFIX;
        List<Path> delete = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                boolean pending = name.endsWith(pendingSuffix);
                long base = LogFiles.parseOffset(name, pending ? pendingSuffix : LogFiles.LOG_SUFFIX);
                if (base >= 0) {
                    Long size = keep.get(base);
                    if (size == null) {
                        delete.add(file);
                        delete.add(LogFiles.indexFile(dir, base));
                    } else {
                        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                            if (ch.size() < size) {
                                throw new IOException(file + " holds " + ch.size() + " bytes, fewer than the "
                                    + size + " its snapshot manifest names");
                            }
                            if (ch.size() > size) {
                                ch.truncate(size);
                                ch.force(true);
                            }
                        }
                        if (base == last) {
                            delete.add(LogFiles.indexFile(dir, base));
                        }
                    }
                }
            }
        }
        for (Path p : delete) {
            Files.deleteIfExists(p);
        }
        if (manifest == null) {
            deleteStateSnapshots(dir);
            Files.deleteIfExists(LeaderEpochFile.path(dir));
            Files.deleteIfExists(LogStartOffsetFile.path(dir));
        } else {
            // The log start offset of the snapshot: the entries replayed after it move it again where they did
            if (manifest.logStartOffset >= 0) {
                if (LogStartOffsetFile.readIfExists(dir) != manifest.logStartOffset) {
                    LogStartOffsetFile.write(dir, manifest.logStartOffset);
                }
            } else {
                Files.deleteIfExists(LogStartOffsetFile.path(dir));
            }
            Path producers = producerStateFile(dir, id);
            if (Files.exists(producers)) {
                deleteStateSnapshots(dir);
                copyDurably(producers, ProducerSnapshotFile.path(dir, manifest.logEndOffset));
                Path keys = keyStateFile(dir, id);
                if (Files.exists(keys)) {
                    copyDurably(keys, KeyWindowFile.path(dir, manifest.logEndOffset));
                }
            } else {
                // A manifest written before snapshots had their own state files: its state is the ordinary snapshot
                // at its log end, as it was then.
                LOG.warn("{}: snapshot {} has no {} file; using the state snapshots at its log end {}", dir, id,
                    producers.getFileName(), manifest.logEndOffset);
                ProducerSnapshotFile.deleteAbove(dir, manifest.logEndOffset);
                for (long o : KeyWindowFile.list(dir)) {
                    if (o > manifest.logEndOffset) {
                        Files.deleteIfExists(KeyWindowFile.path(dir, o));
                    }
                }
            }
        }
        if (!delete.isEmpty()) {
            LOG.info("{}: cut to {} (removed {} files)", dir, manifest == null ? "empty" : "log end "
                + manifest.logEndOffset, delete.size());
        }
    }

    private static void deleteStateSnapshots(Path dir) throws IOException {
        ProducerSnapshotFile.deleteAbove(dir, -1L);
        for (long o : KeyWindowFile.list(dir)) {
            Files.deleteIfExists(KeyWindowFile.path(dir, o));
        }
    }

    /** {@code from} copied to {@code to} atomically (temporary file, fsync, rename, directory fsync). */
    private static void copyDurably(Path from, Path to) throws IOException {
        DurableFiles.writeAtomically(to, ch -> {
            try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ)) {
                long size = in.size();
                long done = 0;
                while (done < size) {
                    long n = in.transferTo(done, size - done, ch);
                    if (n <= 0) {
                        throw new IOException("copying " + from + " to " + to + " stopped at byte " + done);
                    }
                    done += n;
                }
            }
        });
    }

    @Override
    public void close() throws IOException {
        try {
            deleter.shutdownNow();
            flusher.stop();
            sealer.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the replica storage threads", e);
        }
    }

    /**
     * One replicated partition's storage. Reads (Fetch, ListOffsets) use it as a {@link Partition}; only the state
     * machine writes, through {@link #apply} and {@link #expire}.
     */
    public static final class Log {
        private final PartitionLog log;
        private final ReplicaStorage storage;

        private Log(PartitionLog log, ReplicaStorage storage) {
            this.log = log;
            this.storage = storage;
        }

        /** The reads' view (its append methods must not be used: writes go through the Raft group). */
        public Partition partition() {
            return log;
        }

        /** Stateless checks of a batch on the leader before it is proposed; NONE when it may be proposed. */
        public ErrorCode check(RecordBatch batch, int length) {
            return log.checkHeader(batch, length);
        }

        public String describe(ErrorCode error, RecordBatch batch, int length) {
            return log.describeRefusal(error, batch, length);
        }

        /** The state machine's deterministic step for a committed batch entry (single writer). */
        public void apply(ByteBuffer buffer, int offset, int length, long appendTimeMs, int leaderEpoch,
                          AppendOutcome out) {
            log.applyEntry(buffer, offset, length, appendTimeMs, leaderEpoch, out);
        }

        /** Whether the storage failed (an I/O error): it appends nothing more until restarted. */
        public boolean offline() {
            return log.state() != PartitionLog.State.OPEN;
        }

        /**
         * A log start entry's first step (see {@link PartitionLog#moveLogStartForReplication}): the log start offset
         * moves (durably); the state machine then snapshots and calls {@link #removeBelowLogStart}.
         */
        public long moveLogStart(long target) throws IOException, io.idemlog.server.metadata.AdminException {
            return log.moveLogStartForReplication(target);
        }

        /** Removes the segments entirely below the log start offset; their files go after the delete delay. */
        public int removeBelowLogStart() {
            List<LogSegment> removed = log.removeBelowLogStart();
            storage.deleteLater(removed);
            return removed.size();
        }

        /** Where retention by these settings would move the log start offset now; -1: nowhere. Leader side. */
        public long retentionTarget(long nowMs, long retentionMs, long retentionBytes) {
            return log.retentionTarget(nowMs, retentionMs, retentionBytes);
        }

        public long logStartOffset() {
            return log.logStartOffset();
        }

        /** This partition's storage settings now (the node's, then those of the config entries applied). */
        public LogConfig config() {
            return log.config();
        }

        /**
         * New settings from the next append on (a config entry, applied at the same point of the log on every
         * replica; or a snapshot's at load). Updater thread.
         */
        public void reconfigure(LogConfig config) {
            log.reconfigure(config);
        }

        /** A tick entry: producers and de-dup keys idle past their limits at the entry's time. */
        public int expire(long nowMs) {
            return log.expireProducers(nowMs);
        }

        /**
         * A Raft snapshot at this point, {@code id} its Raft index (its state files are named by it); see
         * {@link PartitionLog#snapshotForReplication}.
         */
        public Manifest snapshot(long id) throws IOException {
            return Manifest.of(log.snapshotForReplication(producerStateFile(log.dir(), id), keyStateFile(log.dir(),
                id)));
        }

        public Path dir() {
            return log.dir();
        }

        public long logEndOffset() {
            return log.logEndOffset();
        }

        public void close() throws IOException {
            log.close();
        }

        /** What a crash leaves: nothing flushed (tests). */
        public void abandon() {
            log.abandon();
        }

        /** The segments' bytes in offset order, concatenated (replica comparisons in tests; small logs only). */
        /** The segments as this log holds them: base offset, next offset and size of each (diagnostics, tests). */
        public String segmentSummary() {
            StringBuilder out = new StringBuilder();
            for (LogSegment s : log.segments()) {
                out.append(s.baseOffset).append("..").append(s.nextOffset()).append('=').append(s.size()).append(' ');
            }
            return out.toString();
        }

        public byte[] segmentBytes() throws IOException {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (LogSegment s : log.segments()) {
                ByteBuffer b = ByteBuffer.allocate(s.size());
                while (b.hasRemaining()) {
                    if (s.channel().read(b, b.position()) < 0) {
                        throw new IOException("short read in " + s.path());
                    }
                }
                out.write(b.array(), 0, b.capacity());
            }
            return out.toByteArray();
        }
    }

}
