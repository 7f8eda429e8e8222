package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.KeyWindowFile;
import io.idemlog.server.state.LeaderEpochFile;
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
 * <p>The high watermark stays what it is on a single node, the fsync'd end of the segments; since only committed
 * entries are applied, it is never above the Raft commit index. (So reads see an entry once it is committed, applied
 * AND fsync'd in the segment on this node: one more fsync per group commit than the design's "segment fsync'd at
 * snapshot", kept for now because it reuses the single node's proven durability code.)
 */
public final class ReplicaStorage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaStorage.class);

    private final LogContext context;
    private final GroupCommitFlusher flusher;
    private final SegmentSealer sealer;

    public ReplicaStorage(LogConfig config, EpochClock clock, HighWatermarkListener listener) {
        StorageMetrics metrics = new StorageMetrics();
        this.flusher = new GroupCommitFlusher(metrics);
        this.sealer = new SegmentSealer();
        // Rolls are decided by the applier from the entry's time (deterministic); retention is not run on replicas.
        this.context = new LogContext(config, clock, StorageIo.DIRECT, flusher, sealer, listener, metrics);
        flusher.start();
        sealer.start();
    }

    public LogConfig config() {
        return context.config();
    }

    /**
     * Opens the partition stored in {@code dir} after cutting it to {@code manifest} (null: to empty): Ratis replays
     * the entries after the snapshot through {@link Log#apply}, and apply is deterministic, so whatever the cut
     * removes comes back byte for byte.
     */
    public Log open(String topic, int index, Path dir, DedupConfig dedup, Manifest manifest) throws IOException {
        Files.createDirectories(dir);
        cut(dir, manifest);
        return new Log(PartitionLoader.load(topic, index, dir, context, dedup));
    }

    /**
     * What a Raft snapshot of a partition is: the log end and every segment (base offset, bytes) at the snapshot.
     * Written by the state machine next to the data.
     */
    public record Manifest(long logEndOffset, long[] bases, long[] sizes) {
        public static Manifest of(long[] packed) {
            int n = (packed.length - 1) / 2;
            long[] bases = new long[n];
            long[] sizes = new long[n];
            for (int i = 0; i < n; i++) {
                bases[i] = packed[1 + 2 * i];
                sizes[i] = packed[2 + 2 * i];
            }
            return new Manifest(packed[0], bases, sizes);
        }

        /** The files a snapshot install ships (those that exist), relative to the partition directory. */
        public List<Path> files(Path dir) {
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < bases.length; i++) {
                Path log = LogFiles.logFile(dir, bases[i]);
                files.add(Files.exists(log) ? log : LogFiles.pendingLogFile(dir, bases[i]));
                Path idx = LogFiles.indexFile(dir, bases[i]);
                if (i < bases.length - 1 && Files.exists(idx)) {
                    files.add(idx);
                }
            }
            addIfExists(files, ProducerSnapshotFile.path(dir, logEndOffset));
            addIfExists(files, KeyWindowFile.path(dir, logEndOffset));
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
     * size (the last one's index file deleted: recovery rebuilds it); state snapshots above the log end deleted.
     * With no manifest every data file goes (the state machine starts empty and Ratis replays its whole log).
     */
    static void cut(Path dir, Manifest manifest) throws IOException {
        Map<Long, Long> keep = new HashMap<>();
        long last = -1;
        if (manifest != null) {
            for (int i = 0; i < manifest.bases.length; i++) {
                keep.put(manifest.bases[i], manifest.sizes[i]);
                last = Math.max(last, manifest.bases[i]);
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
            ProducerSnapshotFile.deleteAbove(dir, -1L);
            for (long o : KeyWindowFile.list(dir)) {
                Files.deleteIfExists(KeyWindowFile.path(dir, o));
            }
            Files.deleteIfExists(LeaderEpochFile.path(dir));
        } else {
            ProducerSnapshotFile.deleteAbove(dir, manifest.logEndOffset);
            for (long o : KeyWindowFile.list(dir)) {
                if (o > manifest.logEndOffset) {
                    Files.deleteIfExists(KeyWindowFile.path(dir, o));
                }
            }
        }
        if (!delete.isEmpty()) {
            LOG.info("{}: cut to {} (removed {} files)", dir, manifest == null ? "empty" : "log end "
                + manifest.logEndOffset, delete.size());
        }
    }

    @Override
    public void close() throws IOException {
        try {
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

        private Log(PartitionLog log) {
            this.log = log;
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

        /** A tick entry: producers and de-dup keys idle past their limits at the entry's time. */
        public int expire(long nowMs) {
            return log.expireProducers(nowMs);
        }

        /** See {@link PartitionLog#snapshotForReplication}. */
        public Manifest snapshot() throws IOException {
            return Manifest.of(log.snapshotForReplication());
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
