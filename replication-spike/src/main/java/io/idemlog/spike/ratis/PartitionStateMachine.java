package io.idemlog.spike.ratis;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.Varints;
import io.idemlog.server.state.DurableFiles;
import io.idemlog.server.state.ProducerSnapshotFile;
import io.idemlog.server.state.ProducerStateTable;
import io.idemlog.server.state.SequenceOutcome;
import io.idemlog.server.state.SlabProducerStateTable;
import org.agrona.concurrent.EpochClock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * SPIKE: one partition as a Ratis state machine. Apply is idemlog's deterministic decide + append: the producer
 * state check ({@link SlabProducerStateTable}, the server's own table), offset assignment in log order, base offset
 * and leader epoch (= Raft term) patched outside the CRC, the leader's timestamp from the entry. Snapshots are a
 * set of files (sealed segments + producer state + a manifest), installed on a lagging replica by Ratis's own
 * file-chunk protocol.
 *
 * <p>Threads (Ratis's): {@link #startTransaction} on the leader's request threads (stateless checks only);
 * {@link #write}/{@link #flush}/{@link #truncate} on the group's log worker; {@link #read} on log appenders;
 * {@link #applyTransaction}, {@link #takeSnapshot}, {@link #reinitialize} on the group's state machine updater,
 * which therefore is the single writer of the producer state and the segments; {@link #query} on request threads
 * (reads published volatile state and files below the published sizes).
 *
 * <p>Spike limits: no retention; {@link Mode#SM_DATA} keeps its index-to-position map in memory and supports
 * neither snapshots nor restart (it exists to measure the write path and to exercise truncate).
 */
final class PartitionStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionStateMachine.class);
    private static final String SEGMENT_SUFFIX = ".log";
    private static final String MANIFEST_PREFIX = "snapshot.";
    private static final String MANIFEST_SUFFIX = ".manifest";
    private static final String DATA_FILE = "sm-data.bin";
    private static final int DATA_RECORD_HEADER = 12;
    private static final int MAX_PRODUCERS = 10_000;
    private static final int MANIFESTS_TO_KEEP = 2;
    static final int BATCH_ROW = 32;
    /**
     * Zero-fill the active segment this far ahead of its end (0 = off), as idemlog's log.preallocate does: appends
     * then overwrite allocated blocks, so the Raft log's fsync (ext4 data=ordered commits the journal) does not
     * also have to write out this file's new blocks. Node JVM property {@code spike.preallocate.bytes}.
     */
    private static final long PREALLOCATE_BYTES = Long.getLong("spike.preallocate.bytes", 8L << 20);
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20);

    private final Mode mode;
    private final EpochClock clock;
    private final Storage storage = new Storage();
    private final ProducerStateTable producers = new SlabProducerStateTable(MAX_PRODUCERS, Long.MAX_VALUE);
    private final Varints.Cursor leaderCursor = new Varints.Cursor();
    private final RecordBatch applyBatch = new RecordBatch();
    private ByteBuffer applyBuffer = ByteBuffer.allocateDirect(1 << 20);

    // Updater thread writes; query threads read the volatile copies.
    private final List<Segment> sealed = new ArrayList<>();
    private Segment active;
    private volatile long logEndOffset;
    /** The largest producer id applied (the v2 producer snapshot records it: the allocator must start above it). */
    private long maxProducerId = -1;
    private volatile long appliedBatches;
    private volatile long duplicates;
    private volatile long rejected;
    private volatile Segment[] published = new Segment[0];

    // SM_DATA: log worker writes, appenders and the updater read.
    private FileChannel dataChannel;
    private long dataEnd;
    private final ConcurrentSkipListMap<Long, Long> dataPositions = new ConcurrentSkipListMap<>();
    private volatile long dataTruncations;
    private final ByteBuffer dataHeader = ByteBuffer.allocateDirect(DATA_RECORD_HEADER);
    private final ByteBuffer patch = ByteBuffer.allocateDirect(8);

    PartitionStateMachine(Mode mode, EpochClock clock) {
        this.mode = mode;
        this.clock = clock;
    }

    /** A segment file: base offset, channel, bytes written so far (published to readers). */
    private static final class Segment {
        final long baseOffset;
        final Path path;
        final FileChannel channel;
        volatile long size;
        /** Zero-filled up to here (updater thread only). */
        long allocated;

        Segment(long baseOffset, Path path, FileChannel channel, long size) {
            this.baseOffset = baseOffset;
            this.path = path;
            this.channel = channel;
            this.size = size;
            this.allocated = size;
        }

        /** Makes sure [size, size + length) is zero-filled, filling {@link #PREALLOCATE_BYTES} ahead. */
        void preallocate(int length) throws IOException {
            if (PREALLOCATE_BYTES <= 0 || size + length <= allocated) {
                return;
            }
            long target = size + length + PREALLOCATE_BYTES;
            long position = allocated;
            while (position < target) {
                ByteBuffer z = ZEROS.duplicate();
                z.limit((int) Math.min(z.capacity(), target - position));
                position += channel.write(z, position);
            }
            allocated = position;
        }

        /** Cuts the zero-filled tail: the file then holds exactly the batches (before sealing or closing). */
        void trim() throws IOException {
            if (allocated > size) {
                channel.truncate(size);
                allocated = size;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- life cycle

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        getLifeCycle().transition(LifeCycle.State.STARTING);
        load();
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /** Before a leader-sent snapshot replaces the sm directory: close every file (Ratis then renames the dir). */
    @Override
    public void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        closeFiles();
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    /** After a snapshot install: load the state the installed files describe. */
    @Override
    public void reinitialize() throws IOException {
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
        }
        load();
        getLifeCycle().transition(LifeCycle.State.RUNNING);
        LOG.info("{}: reinitialized at {} (log end offset {})", getGroupId(), getLastAppliedTermIndex(),
            logEndOffset);
    }

    @Override
    public void close() {
        closeFiles();
    }

    private void closeFiles() {
        for (Segment s : sealed) {
            closeQuietly(s.channel);
        }
        sealed.clear();
        if (active != null) {
            try {
                active.trim();
                active.channel.force(false);
            } catch (IOException e) {
                LOG.warn("{}: fsync of {} at close failed", getGroupId(), active.path, e);
            }
            closeQuietly(active.channel);
            active = null;
        }
        if (dataChannel != null) {
            closeQuietly(dataChannel);
            dataChannel = null;
        }
        published = new Segment[0];
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close failed", e);
        }
    }

    /**
     * Rebuilds the state from the sm directory: the newest manifest's segments (cut to their recorded sizes),
     * producer state and applied index. Segment bytes beyond the manifest are deleted: Ratis replays the entries
     * after the snapshot index, and apply is deterministic, so they come back byte for byte.
     */
    private void load() throws IOException {
        closeFiles();
        Path dir = storage.dir();
        Files.createDirectories(dir);
        producers.clear();
        duplicates = 0;
        rejected = 0;
        Manifest manifest = Manifest.newest(dir);
        List<String> keep = new ArrayList<>();
        if (manifest != null) {
            for (Map.Entry<String, Long> e : manifest.segments.entrySet()) {
                Path p = dir.resolve(e.getKey());
                FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
                if (ch.size() < e.getValue()) {
                    ch.close();
                    throw new IOException(p + " is shorter (" + Files.size(p) + ") than snapshot " + manifest.name
                        + " says (" + e.getValue() + ")");
                }
                ch.truncate(e.getValue());
                sealed.add(new Segment(baseOf(e.getKey()), p, ch, e.getValue()));
                keep.add(e.getKey());
            }
            maxProducerId = ProducerSnapshotFile.load(dir.resolve(manifest.producerSnapshot), producers).maxProducerId();
            logEndOffset = manifest.logEndOffset;
            appliedBatches = manifest.batches;
            setLastAppliedTermIndex(TermIndex.valueOf(manifest.term, manifest.index));
        } else {
            logEndOffset = 0;
            appliedBatches = 0;
            setLastAppliedTermIndex(TermIndex.INITIAL_VALUE);
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if ((name.endsWith(SEGMENT_SUFFIX) && !keep.contains(name)) || name.equals(DATA_FILE)) {
                    Files.delete(p);
                }
            }
        }
        active = openSegment(dir, logEndOffset);
        publish();
        if (mode == Mode.SM_DATA) {
            dataChannel = FileChannel.open(dir.resolve(DATA_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
            dataEnd = 0;
            dataPositions.clear();
        }
    }

    private static Segment openSegment(Path dir, long base) throws IOException {
        Path p = dir.resolve(segmentName(base));
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        ch.truncate(0);
        return new Segment(base, p, ch, 0);
    }

    private void publish() {
        Segment[] all = new Segment[sealed.size() + 1];
        sealed.toArray(all);
        all[all.length - 1] = active;
        published = all;
    }

    static String segmentName(long base) {
        return String.format("%020d%s", base, SEGMENT_SUFFIX);
    }

    private static long baseOf(String segmentName) {
        return Long.parseLong(segmentName.substring(0, segmentName.length() - SEGMENT_SUFFIX.length()));
    }

    // ---------------------------------------------------------------------------------------------- leader side

    /**
     * Leader only: the stateless checks (CRC, shape, every record) and the header with the leader's clock. A bad
     * batch is refused here and never enters the log.
     */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) {
        ByteString content = request.getMessage().getContent();
        TransactionContext.Builder b = TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request);
        ByteBuffer view = content.asReadOnlyByteBuffer();
        int start = view.position();
        RecordBatch batch = new RecordBatch(view, start);
        RecordBatch.Validation v = batch.validate(view.remaining(), 8 << 20);
        if (v != RecordBatch.Validation.VALID || batch.sizeInBytes() != content.size()) {
            TransactionContext t = b.setLogData(ByteString.EMPTY).build();
            t.setException(new IOException("batch refused before proposing: " + v));
            return t;
        }
        boolean recordsValid;
        synchronized (leaderCursor) {
            recordsValid = batch.validateRecords(leaderCursor);
        }
        if (!recordsValid) {
            TransactionContext t = b.setLogData(ByteString.EMPTY).build();
            t.setException(new IOException("batch refused before proposing: malformed records"));
            return t;
        }
        ByteString header = EntryLayout.header(mode == Mode.SM_DATA ? EntryLayout.EXTERNAL : EntryLayout.INLINE,
            clock.time(), batch.producerId(), batch.producerEpoch(), batch.baseSequence(), batch.lastOffsetDelta(),
            content.size());
        if (mode == Mode.SM_DATA) {
            return b.setLogData(header).setStateMachineData(content).build();
        }
        return b.setLogData(header.concat(content)).build();
    }

    // ---------------------------------------------------------------------------------------------- apply

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        ByteString logData = entry.getStateMachineLogEntry().getLogData();
        ByteBuffer h = logData.asReadOnlyByteBuffer();
        int p = h.position();
        long leaderTimeMs = h.getLong(p + EntryLayout.LEADER_TIME_OFFSET);
        long producerId = h.getLong(p + EntryLayout.PRODUCER_ID_OFFSET);
        short epoch = h.getShort(p + EntryLayout.PRODUCER_EPOCH_OFFSET);
        int baseSequence = h.getInt(p + EntryLayout.BASE_SEQUENCE_OFFSET);
        int lastOffsetDelta = h.getInt(p + EntryLayout.LAST_OFFSET_DELTA_OFFSET);
        int batchLength = h.getInt(p + EntryLayout.BATCH_LENGTH_OFFSET);
        ByteString reply;
        try {
            reply = decideAndAppend(entry, logData, leaderTimeMs, producerId, epoch, baseSequence, lastOffsetDelta,
                batchLength);
        } catch (IOException e) {
            // A replica whose segment write fails must not go on applying: it would diverge. The spike stops here.
            LOG.error("{}: apply of {} failed", getGroupId(), entry.getIndex(), e);
            return CompletableFuture.failedFuture(e);
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        return CompletableFuture.completedFuture(Message.valueOf(reply));
    }

    private ByteString decideAndAppend(LogEntryProto entry, ByteString logData, long leaderTimeMs, long producerId,
                                       short epoch, int baseSequence, int lastOffsetDelta, int batchLength)
        throws IOException {
        SequenceOutcome outcome = producers.check(producerId, epoch, baseSequence, lastOffsetDelta);
        switch (outcome) {
            case DUPLICATE:
                duplicates = duplicates + 1;
                return EntryLayout.reply(EntryLayout.DUPLICATE, (short) 0, producers.duplicateFirstOffset(),
                    producers.duplicateLastOffset());
            case FENCED:
            case OUT_OF_ORDER:
            case INVALID_RECORD:
                rejected = rejected + 1;
                return EntryLayout.reply(EntryLayout.REJECTED, outcome.error().code, -1, -1);
            default:
                break;
        }
        long baseOffset = logEndOffset;
        long lastOffset = baseOffset + lastOffsetDelta;
        int leaderEpoch = (int) entry.getTerm();
        switch (mode) {
            case DOUBLE_WRITE:
                appendToSegment(logData, batchLength, baseOffset, leaderEpoch);
                break;
            case SM_DATA:
                patchDataFile(entry.getIndex(), baseOffset, leaderEpoch);
                break;
            case LOG_ONLY:
            default:
                break;
        }
        producers.update(producerId, epoch, baseSequence, lastOffsetDelta, baseOffset, leaderTimeMs);
        maxProducerId = Math.max(maxProducerId, producerId);
        logEndOffset = lastOffset + 1;
        appliedBatches = appliedBatches + 1;
        return EntryLayout.reply(EntryLayout.APPENDED, (short) 0, baseOffset, lastOffset);
    }

    /** The second write: the batch, offsets patched, into the active segment (page cache; no fsync here). */
    private void appendToSegment(ByteString logData, int batchLength, long baseOffset, int leaderEpoch)
        throws IOException {
        if (applyBuffer.capacity() < batchLength) {
            applyBuffer = ByteBuffer.allocateDirect(Integer.highestOneBit(batchLength) << 1);
        }
        ByteBuffer buf = applyBuffer;
        buf.clear();
        logData.substring(EntryLayout.HEADER_SIZE).copyTo(buf);
        buf.flip();
        applyBatch.wrap(buf, 0);
        applyBatch.baseOffset(baseOffset);
        applyBatch.partitionLeaderEpoch(leaderEpoch);
        Segment s = active;
        s.preallocate(batchLength);
        long position = s.size;
        while (buf.hasRemaining()) {
            position += s.channel.write(buf, position);
        }
        s.size = position;
    }

    // ---------------------------------------------------------------------------------------------- SM_DATA

    /** Log worker, every replica, in log order, before the entry counts as written: the only copy of the batch. */
    @Override
    public CompletableFuture<?> write(LogEntryProto entry, TransactionContext context) {
        if (mode != Mode.SM_DATA) {
            return CompletableFuture.completedFuture(null);
        }
        ByteString data = entry.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData();
        try {
            long position = dataEnd;
            dataHeader.clear();
            dataHeader.putLong(entry.getIndex()).putInt(data.size()).flip();
            while (dataHeader.hasRemaining()) {
                position += dataChannel.write(dataHeader, position);
            }
            for (ByteBuffer part : data.asReadOnlyByteBufferList()) {
                while (part.hasRemaining()) {
                    position += dataChannel.write(part, position);
                }
            }
            dataPositions.put(entry.getIndex(), dataEnd);
            dataEnd = position;
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Log worker: before Ratis fsyncs its own log (state machine data sync is on), the data file is fsync'd. */
    @Override
    public CompletableFuture<Void> flush(long logIndex) {
        if (mode != Mode.SM_DATA) {
            return CompletableFuture.completedFuture(null);
        }
        try {
            dataChannel.force(false);
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A new leader overwrote our tail: cut the data file after {@code logIndex}. */
    @Override
    public CompletableFuture<Void> truncate(long logIndex) {
        if (mode != Mode.SM_DATA) {
            return CompletableFuture.completedFuture(null);
        }
        Map.Entry<Long, Long> first = dataPositions.ceilingEntry(logIndex + 1);
        if (first == null) {
            return CompletableFuture.completedFuture(null);
        }
        try {
            dataChannel.truncate(first.getValue());
            dataEnd = first.getValue();
            dataPositions.tailMap(logIndex + 1, true).clear();
            dataTruncations = dataTruncations + 1;
            LOG.info("{}: state machine data truncated after index {} (at byte {})", getGroupId(), logIndex,
                dataEnd);
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Log appenders, for entries no longer in Ratis's cache (a lagging follower): read the batch back. */
    @Override
    public CompletableFuture<ByteString> read(LogEntryProto entry, TransactionContext context) {
        Long position = dataPositions.get(entry.getIndex());
        if (mode != Mode.SM_DATA || position == null) {
            return CompletableFuture.failedFuture(new IOException("no state machine data for " + entry.getIndex()));
        }
        try {
            ByteBuffer header = ByteBuffer.allocate(DATA_RECORD_HEADER);
            readFully(dataChannel, header, position);
            int length = header.getInt(8);
            ByteBuffer data = ByteBuffer.allocate(length);
            readFully(dataChannel, data, position + DATA_RECORD_HEADER);
            return CompletableFuture.completedFuture(UnsafeByteOperations.unsafeWrap(data.array()));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void patchDataFile(long index, long baseOffset, int leaderEpoch) throws IOException {
        Long position = dataPositions.get(index);
        if (position == null) {
            throw new IOException("no state machine data written for index " + index);
        }
        long batchStart = position + DATA_RECORD_HEADER;
        patch.clear();
        patch.putLong(baseOffset).flip();
        while (patch.hasRemaining()) {
            dataChannel.write(patch, batchStart + RecordBatch.BASE_OFFSET_OFFSET + 8 - patch.remaining());
        }
        patch.clear();
        patch.putInt(leaderEpoch).flip();
        while (patch.hasRemaining()) {
            dataChannel.write(patch, batchStart + RecordBatch.PARTITION_LEADER_EPOCH_OFFSET + 4 - patch.remaining());
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        while (into.hasRemaining()) {
            int n = channel.read(into, position + into.position());
            if (n < 0) {
                throw new IOException("unexpected end of file at " + (position + into.position()));
            }
        }
        into.flip();
    }

    // ---------------------------------------------------------------------------------------------- snapshots

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /**
     * Updater thread (apply is paused meanwhile): seal the active segment (fsync), write the producer state and a
     * manifest naming the sealed segments and their sizes. No data is copied: the snapshot IS the segment files.
     */
    @Override
    public long takeSnapshot() throws IOException {
        if (mode != Mode.DOUBLE_WRITE) {
            return RaftLogIndexNone.INDEX;
        }
        TermIndex applied = getLastAppliedTermIndex();
        Path dir = storage.dir();
        Segment s = active;
        s.trim();
        s.channel.force(false);
        if (s.size > 0) {
            sealed.add(s);
            active = openSegment(dir, logEndOffset);
        }
        String producerFile = ProducerSnapshotFile.write(dir, logEndOffset, maxProducerId, producers).getFileName().toString();
        Manifest m = new Manifest(Manifest.name(applied), applied.getTerm(), applied.getIndex(), logEndOffset,
            appliedBatches, producerFile);
        for (Segment x : sealed) {
            m.segments.put(x.path.getFileName().toString(), x.size);
        }
        m.write(dir);
        DurableFiles.fsyncDirectory(dir);
        publish();
        LOG.info("{}: snapshot {} ({} segments, log end offset {})", getGroupId(), m.name, sealed.size(),
            logEndOffset);
        return applied.getIndex();
    }

    /** Ratis has no constant for "no snapshot taken"; -1 is what its own state machines return. */
    private static final class RaftLogIndexNone {
        static final long INDEX = -1L;
    }

    /** The snapshot storage: manifests in the sm dir; the files they name are the snapshot. */
    private final class Storage implements StateMachineStorage {
        private volatile Path dir;

        @Override
        public void init(RaftStorage raftStorage) {
            dir = raftStorage.getStorageDir().getStateMachineDir().toPath();
        }

        Path dir() {
            return dir;
        }

        @Override
        public SnapshotInfo getLatestSnapshot() {
            try {
                Manifest m = Manifest.newest(dir);
                if (m == null) {
                    return null;
                }
                List<FileInfo> files = new ArrayList<>();
                files.add(new FileInfo(dir.resolve(m.name), null));
                files.add(new FileInfo(dir.resolve(m.producerSnapshot), null));
                for (String seg : m.segments.keySet()) {
                    files.add(new FileInfo(dir.resolve(seg), null));
                }
                return new FileListSnapshotInfo(files, m.term, m.index);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void format() {
        }

        @Override
        public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
            List<Manifest> all = Manifest.all(dir);
            for (int i = 0; i < all.size() - MANIFESTS_TO_KEEP; i++) {
                Files.deleteIfExists(dir.resolve(all.get(i).name));
            }
        }

        @Override
        public File getSnapshotDir() {
            return null;
        }
    }

    // ---------------------------------------------------------------------------------------------- queries

    /**
     * Read-only queries (sent as stale reads to one chosen replica): {@code STATS} (this JVM's threads and
     * memory), {@code DIGEST} (applied index, log end offset, batches, CRC-32C of every segment byte),
     * {@code BATCHES} (producer id, base sequence, base offset, record count of every batch in the segments).
     */
    @Override
    public CompletableFuture<Message> query(Message request) {
        String q = request.getContent().toString(StandardCharsets.UTF_8);
        try {
            switch (q) {
                case "STATS":
                    return CompletableFuture.completedFuture(Message.valueOf(NodeStats.describe()));
                case "DIGEST":
                    return CompletableFuture.completedFuture(Message.valueOf(digest()));
                case "BATCHES":
                    return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(
                        batches())));
                default:
                    return CompletableFuture.failedFuture(new IllegalArgumentException("unknown query " + q));
            }
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private String digest() throws IOException {
        CRC32C crc = new CRC32C();
        long bytes = 0;
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        if (mode == Mode.DOUBLE_WRITE) {
            for (Segment s : published) {
                long size = s.size;
                for (long pos = 0; pos < size; ) {
                    buf.clear().limit((int) Math.min(buf.capacity(), size - pos));
                    int n = s.channel.read(buf, pos);
                    if (n <= 0) {
                        break;
                    }
                    crc.update(buf.array(), 0, n);
                    pos += n;
                    bytes += n;
                }
            }
        }
        return "applied=" + getLastAppliedTermIndex().getIndex() + " term=" + getLastAppliedTermIndex().getTerm()
            + " logEndOffset=" + logEndOffset + " batches=" + appliedBatches + " duplicates=" + duplicates
            + " rejected=" + rejected + " bytes=" + bytes + " crc=" + Long.toHexString(crc.getValue())
            + " producers=" + producers.size() + " truncations=" + dataTruncations;
    }

    /** {@value #BATCH_ROW} bytes per batch: producerId, baseSequence, recordCount, baseOffset, baseTimestamp. */
    private byte[] batches() throws IOException {
        ByteBuffer out = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8,
            appliedBatches * BATCH_ROW + BATCH_ROW)).order(ByteOrder.BIG_ENDIAN);
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        RecordBatch b = new RecordBatch();
        for (Segment s : published) {
            long size = s.size;
            long pos = 0;
            while (pos + RecordBatch.HEADER_SIZE <= size && out.remaining() >= BATCH_ROW) {
                header.clear();
                while (header.hasRemaining()) {
                    if (s.channel.read(header, pos + header.position()) < 0) {
                        throw new IOException("short read in " + s.path);
                    }
                }
                b.wrap(header, 0);
                out.putLong(b.producerId()).putInt(b.baseSequence()).putInt(b.recordsCount()).putLong(b.baseOffset())
                    .putLong(b.baseTimestamp());
                pos += b.sizeInBytes();
            }
        }
        byte[] result = new byte[out.position()];
        out.flip().get(result);
        return result;
    }

    // ---------------------------------------------------------------------------------------------- manifest

    /** What a snapshot is: its term and index, the log end offset, producer state file and segment sizes. */
    private static final class Manifest {
        final String name;
        final long term;
        final long index;
        final long logEndOffset;
        final long batches;
        final String producerSnapshot;
        final Map<String, Long> segments = new java.util.LinkedHashMap<>();

        Manifest(String name, long term, long index, long logEndOffset, long batches, String producerSnapshot) {
            this.name = name;
            this.term = term;
            this.index = index;
            this.logEndOffset = logEndOffset;
            this.batches = batches;
            this.producerSnapshot = producerSnapshot;
        }

        static String name(TermIndex ti) {
            return String.format("%s%020d_%020d%s", MANIFEST_PREFIX, ti.getIndex(), ti.getTerm(), MANIFEST_SUFFIX);
        }

        void write(Path dir) throws IOException {
            StringBuilder sb = new StringBuilder();
            sb.append("term=").append(term).append('\n').append("index=").append(index).append('\n')
                .append("logEndOffset=").append(logEndOffset).append('\n').append("batches=").append(batches)
                .append('\n').append("producers=").append(producerSnapshot).append('\n');
            for (Map.Entry<String, Long> e : segments.entrySet()) {
                sb.append("segment=").append(e.getKey()).append(' ').append(e.getValue()).append('\n');
            }
            byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
            DurableFiles.writeAtomically(dir.resolve(name), ch -> DurableFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
        }

        static Manifest read(Path file) throws IOException {
            long term = -1;
            long index = -1;
            long end = -1;
            long batches = 0;
            String producers = null;
            Map<String, Long> segs = new java.util.LinkedHashMap<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                String k = line.substring(0, eq);
                String v = line.substring(eq + 1);
                switch (k) {
                    case "term" -> term = Long.parseLong(v);
                    case "index" -> index = Long.parseLong(v);
                    case "logEndOffset" -> end = Long.parseLong(v);
                    case "batches" -> batches = Long.parseLong(v);
                    case "producers" -> producers = v;
                    case "segment" -> {
                        int sp = v.indexOf(' ');
                        segs.put(v.substring(0, sp), Long.parseLong(v.substring(sp + 1)));
                    }
                    default -> throw new IOException(file + ": unknown key " + k);
                }
            }
            if (term < 0 || index < 0 || end < 0 || producers == null) {
                throw new IOException(file + ": incomplete manifest");
            }
            Manifest m = new Manifest(file.getFileName().toString(), term, index, end, batches, producers);
            m.segments.putAll(segs);
            return m;
        }

        /** Every readable manifest, oldest first (by index: the name sorts by index). */
        static List<Manifest> all(Path dir) throws IOException {
            List<Manifest> result = new ArrayList<>();
            if (!Files.isDirectory(dir)) {
                return result;
            }
            List<Path> names;
            try (Stream<Path> files = Files.list(dir)) {
                names = files.filter(p -> {
                    String n = p.getFileName().toString();
                    return n.startsWith(MANIFEST_PREFIX) && n.endsWith(MANIFEST_SUFFIX);
                }).sorted().toList();
            }
            for (Path p : names) {
                try {
                    result.add(read(p));
                } catch (IOException | RuntimeException e) {
                    LOG.warn("ignoring unreadable snapshot manifest {}", p, e);
                }
            }
            return result;
        }

        static Manifest newest(Path dir) throws IOException {
            List<Manifest> all = all(dir);
            return all.isEmpty() ? null : all.get(all.size() - 1);
        }
    }
}
