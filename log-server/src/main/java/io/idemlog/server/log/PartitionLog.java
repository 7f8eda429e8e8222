package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.DurableFiles;
import io.idemlog.server.state.KeyWindow;
import io.idemlog.server.state.KeyWindowFile;
import io.idemlog.server.state.LeaderEpochCache;
import io.idemlog.server.state.LeaderEpochFile;
import io.idemlog.server.state.LogStartOffsetFile;
import io.idemlog.server.state.ProducerSnapshotFile;
import io.idemlog.server.state.ProducerStateTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A partition: its segments, its producer state and its durability. See {@link Partition} for the contract.
 *
 * <p>Two locks, always taken in this order: the commit lock ({@link #flushLock}) before the partition lock
 * ({@link #lock}). Threads and what they own:
 * <ul>
 * <li>appending threads (Netty event loops): {@link #append}, under the partition lock, which guards the producer
 * state, the active segment, the log end and the queue of pending seals. A roll happens here too, but only its
 * in-memory part (see {@link #roll}): no fsync ever runs under the partition lock;</li>
 * <li>reading threads: {@link #read}, {@link #offsetForTimestamp}, the getters, lock-free over the volatile
 * segment array and offsets;</li>
 * <li>the commit-lock holder, the one owner of the durability state ({@link DurabilityTracker} checks it): the
 * flusher thread or a request thread through {@link #flushNow} ({@link #flushLocked}: an fsync of the active
 * segment), the storage thread finishing a roll ({@link #runPendingSeals}: the old segment's fsyncs, its index,
 * the snapshot), and {@link #close}. Group commits and seals of one partition therefore never overlap, and only
 * this holder advances the high watermark, fails it, and completes durability callbacks;</li>
 * <li>the maintenance thread: {@link #applyRetention} and {@link #expireProducers}, under the partition lock.</li>
 * </ul>
 *
 * <p>The append is split on purpose: the stateless header checks and the CRC run before the lock; then, under it,
 * {@link PartitionApplier#apply} with the server clock's time and leader epoch 0: the producer-state check, record
 * validation, offset assignment, the write, and only after a successful write the state update (a deterministic
 * function of the state, the batch, the time and the epoch: the apply step of a replicated log, docs/REPLICATION.md).
 * The applier owns the single writer's state (producer state, key window, active segment, log end); this class owns
 * the segment list, the log start, durability, seals and the life cycle.
 *
 * <p>Rolls and the high watermark: a roll makes the new segment active at once, and hands the old one's seal (trim,
 * fsync, index file, the producer snapshot taken in memory at the roll, directory fsync) to the storage thread. Until
 * that seal is durable, the high watermark stays below the new segment ({@link #durableTarget}): an offset in it
 * may already be fsync'd by a group commit, but the old segment's tail and the new file's directory entry may not
 * be, so acks=all for it waits. After a crash at any point recovery finds the new segment still named
 * {@code .log.pending} and treats the old one like a last segment (docs/STORAGE.md, "Recovery").
 */
final class PartitionLog implements Partition, PartitionApplier.Host {
    /**
     * Life cycle: OPEN -> OFFLINE (an I/O error: nothing more is written or promised) -> CLOSED, or OPEN -> CLOSED.
     * Every change goes through {@link #moveTo}.
     */
    enum State {
        OPEN, OFFLINE, CLOSED;

        boolean canMoveTo(State next) {
            return switch (this) {
                case OPEN -> next != OPEN;
                case OFFLINE -> next == CLOSED;
                case CLOSED -> false;
            };
        }
    }

    /** A roll whose seal the storage thread has yet to make durable. Guarded by the partition lock. */
    private record PendingSeal(LogSegment segment, LogSegment next, ByteBuffer snapshot, ByteBuffer keySnapshot) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(PartitionLog.class);
    /** Snapshots kept per partition: the newest is normally used; older ones are the fallback if it is damaged. */
    static final int SNAPSHOTS_TO_KEEP = 3;
    private static final long[] NO_OFFSET = {-1L, -1L};
    /** The leader epoch of every batch a single node writes. */
    static final int SINGLE_NODE_EPOCH = 0;
    /** DeleteRecords' offset meaning "the high watermark". */
    static final long HIGH_WATERMARK = -1L;

    private final String topic;
    private final int index;
    private final Path dir;
    /**
     * The partition's storage settings: the broker's, with its topic's configs applied (segment size and age,
     * retention, largest batch). Replaced as a whole by {@link #reconfigure} when the topic's configs change.
     */
    private volatile LogConfig config;
    private final LogContext context;
    private final ReentrantLock lock = new ReentrantLock();
    /** The commit lock: its holder alone fsyncs for durability, seals, and advances or fails {@link #durability}. */
    private final ReentrantLock flushLock = new ReentrantLock();
    /** Serialises {@link #advanceLogStart} (its file write runs outside the partition lock). */
    private final Object startLock = new Object();
    private final DurabilityTracker durability;
    private final AtomicBoolean dirty = new AtomicBoolean();
    private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);

    // Guarded by lock (the applier's writer state too: every call into it holds the lock).
    private final ArrayDeque<PendingSeal> pendingSeals = new ArrayDeque<>(2);
    private final PartitionApplier applier;

    // Written under lock, read anywhere.
    private volatile LogSegment[] segments;
    private volatile long logStartOffset;
    /** The epoch cache's newest epoch, at least {@link #SINGLE_NODE_EPOCH}: {@link #leaderEpoch()} without the lock. */
    private volatile int leaderEpoch;

    /** Flusher thread only: whether its current round already holds this partition. */
    boolean inFlushRound;

    /**
     * @param keys           the recovered key window when {@code dedup} is on (null: an empty one)
     * @param logStartOffset the recovered log start (DeleteRecords' stored value, see PartitionLoader)
     * @param epochs         the recovered leader epochs (consistent with the log end)
     */
    PartitionLog(String topic, int index, Path dir, LogContext context, List<LogSegment> segments,
                 ProducerStateTable producers, long maxProducerId, DedupConfig dedup, KeyWindow keys,
                 long logStartOffset, LeaderEpochCache epochs) {
        this.topic = topic;
        this.index = index;
        this.dir = dir;
        this.context = context;
        this.config = context.config();
        this.segments = segments.toArray(new LogSegment[0]);
        this.logStartOffset = Math.max(this.segments[0].baseOffset, logStartOffset);
        this.applier = new PartitionApplier(topic, index, this, this.segments[this.segments.length - 1], producers,
            maxProducerId, dedup, keys, epochs);
        this.leaderEpoch = Math.max(SINGLE_NODE_EPOCH, epochs.latestEpoch());
        // Everything on disk after a restart survived, and recovery fsync'd (and sealed) it: it is all durable.
        this.durability = new DurabilityTracker(applier.logEndOffset(), flushLock,
            context.metrics().callbackFailures);
    }

    /**
     * Applies a (changed) de-duplication setting: off drops the window; a new header starts an empty one (keys of
     * another header say nothing about this one); a new window length applies at once; a new key bound keeps the
     * newest keys that fit.
     */
    void dedup(DedupConfig next) {
        lock.lock();
        try {
            applier.dedup(next, null);
        } finally {
            lock.unlock();
        }
    }

    DedupConfig dedup() {
        lock.lock();
        try {
            return applier.dedup();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public AppendResult append(ByteBuffer buffer, int offset, int length, FlushDuty duty) {
        AppendOutcome out = new AppendOutcome();
        append(buffer, offset, length, duty, out);
        return out.toResult();
    }

    @Override
    public void append(ByteBuffer buffer, int offset, int length, FlushDuty duty, AppendOutcome out) {
        append(buffer, offset, length, duty, out, CLOCK_UNDER_LOCK, SINGLE_NODE_EPOCH);
    }

    /**
     * Cluster mode (docs/REPLICATION.md 4.2): a replicated partition's state machine applies a committed entry with
     * the entry's leader time and term, in log order, from its single updater thread. The same checks and step as
     * {@link #append(ByteBuffer, int, int, FlushDuty, AppendOutcome)}: only the time and the epoch come from the
     * caller instead of the clock and 0.
     */
    void applyEntry(ByteBuffer buffer, int offset, int length, long appendTimeMs, int leaderEpoch, AppendOutcome out) {
        append(buffer, offset, length, FlushDuty.FLUSHER, out, appendTimeMs, leaderEpoch);
    }

    /** The stateless header checks (no lock, no state): {@link ErrorCode#NONE} or why the batch is refused. */
    ErrorCode checkHeader(RecordBatch batch, int length) {
        return ProduceBatchCheck.check(batch, length, config.maxBatchBytes(), applier.dedupHeader());
    }

    String describeRefusal(ErrorCode error, RecordBatch batch, int length) {
        return ProduceBatchCheck.describe(error, batch, length, config.maxBatchBytes());
    }

    /** {@code appendTimeMs} meaning "read the clock under the partition lock" (the single node). */
    private static final long CLOCK_UNDER_LOCK = Long.MIN_VALUE;

    private void append(ByteBuffer buffer, int offset, int length, FlushDuty duty, AppendOutcome out,
                        long appendTimeMs, int leaderEpoch) {
        Objects.checkFromIndexSize(offset, length, buffer.limit());
        RecordBatch batch = out.view(buffer, offset);
        int maxBatchBytes = config.maxBatchBytes();
        ErrorCode headerError = ProduceBatchCheck.check(batch, length, maxBatchBytes, applier.dedupHeader());
        if (headerError != ErrorCode.NONE) {
            out.set(AppendResult.error(headerError,
                ProduceBatchCheck.describe(headerError, batch, length, maxBatchBytes)));
            return;
        }
        AppendResult rejected;
        lock.lock();
        try {
            rejected = appendLocked(batch, buffer, offset, length, out, appendTimeMs, leaderEpoch);
        } finally {
            lock.unlock();
        }
        if (rejected != null) {
            out.set(rejected);
        }
        if (out.error() == ErrorCode.NONE) {
            if (!out.duplicate()) {
                context.flusher().markDirty(this, duty == FlushDuty.FLUSHER);
            }
        } else if (state.get() == State.OFFLINE) {
            // The commit-lock holder fails the waiting callbacks: wake the flusher to do it now.
            context.flusher().markDirty(this, true);
        }
    }

    /**
     * Appends under the lock: fills {@code out} and returns null when the batch was appended (no allocation on
     * that path), or returns the rejection or duplicate answer (which the caller copies into {@code out}).
     */
    private AppendResult appendLocked(RecordBatch batch, ByteBuffer buffer, int offset, int length,
                                      AppendOutcome out, long appendTimeMs, int leaderEpoch) {
        if (state.get() != State.OPEN) {
            return unavailable();
        }
        try {
            long time = appendTimeMs == CLOCK_UNDER_LOCK ? context.clock().time() : appendTimeMs;
            return applier.apply(batch, buffer, offset, length, time, leaderEpoch, config, out);
        } catch (IOException e) {
            goOffline("append at offset " + applier.logEndOffset() + " failed", e);
            return unavailable();
        }
    }

    /**
     * The host's part of a roll ({@link PartitionApplier.Host#roll}), on the appending thread, under the partition
     * lock, without an fsync: the applier took the producer state snapshot at the new base offset in memory (so it is
     * exactly the state at the roll); here the new segment's file is created under its {@code .log.pending} name (a
     * metadata operation) and the old segment's seal is queued for the storage thread ({@link #runPendingSeals});
     * until it is durable, {@link #durableTarget} keeps the high watermark below the new segment.
     */
    @Override
    public LogSegment roll(long newBase, ByteBuffer snapshot, ByteBuffer keySnapshot) throws IOException {
        LogSegment old = applier.active();
        LogSegment next = LogSegment.createAfterRoll(dir, newBase);
        LogSegment[] current = segments;
        LogSegment[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = next;
        segments = grown;
        pendingSeals.add(new PendingSeal(old, next, snapshot, keySnapshot));
        context.sealer().schedule(this);
        return next;
    }

    @Override
    public StorageIo io() {
        return context.io();
    }

    /**
     * The host's part of a new leader epoch ({@link PartitionApplier.Host#epochsChanged}): the epoch file written
     * durably before the epoch's first batch. Under the partition lock, with an fsync: once per partition on a single
     * node (its first append), once per leader change in a cluster.
     */
    @Override
    public void epochsChanged(LeaderEpochCache epochs) throws IOException {
        LeaderEpochFile.write(dir, epochs);
        leaderEpoch = Math.max(SINGLE_NODE_EPOCH, epochs.latestEpoch());
    }

    @Override
    public int leaderEpoch() {
        return leaderEpoch;
    }

    /**
     * KIP-320's OffsetsForLeaderEpoch for {@code requested}, see {@link LeaderEpochCache#endOffsetFor}. Before the
     * first append the cache is empty, yet the partition already has its current epoch: as Kafka's leader (which
     * records its epoch at the log end when it takes over), that epoch ends at the log end then.
     */
    @Override
    public EpochEndOffset endOffsetForEpoch(int requested) {
        lock.lock();
        try {
            if (applier.epochs().size() == 0) {
                return requested >= 0 && requested == leaderEpoch
                    ? new EpochEndOffset(requested, applier.logEndOffset()) : EpochEndOffset.UNDEFINED;
            }
            long[] answer = applier.endOffsetForEpoch(requested);
            return new EpochEndOffset((int) answer[0], answer[1]);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Storage thread (or close): makes the queued rolls durable, oldest first. For each: the old segment's
     * preallocated zeros cut and its data fsync'd, its index written (fsync'd, renamed), the roll's snapshot written,
     * the next segment renamed from {@code .log.pending} to {@code .log}, the directory fsync'd (the new file, the
     * renames); only then is the seal done and the high watermark free to pass the roll. Holds the commit lock, so it
     * never overlaps a group commit of this partition; never holds the partition lock during I/O. A failure takes the
     * partition offline.
     */
    void runPendingSeals() {
        flushLock.lock();
        try {
            while (true) {
                PendingSeal seal;
                lock.lock();
                try {
                    seal = pendingSeals.peek();
                } finally {
                    lock.unlock();
                }
                if (seal == null || state.get() != State.OPEN) {
                    return;
                }
                try {
                    seal(seal);
                } catch (IOException e) {
                    context.metrics().storageErrors.increment();
                    goOffline("sealing " + seal.segment().path().getFileName() + " failed", e);
                    durability.fail();
                    return;
                }
                lock.lock();
                try {
                    pendingSeals.poll();
                } finally {
                    lock.unlock();
                }
                context.metrics().segmentsSealed.increment();
                advanceDurable();
            }
        } finally {
            flushLock.unlock();
        }
    }

    private void seal(PendingSeal seal) throws IOException {
        LogSegment old = seal.segment();
        old.syncForSeal(context.io());
        old.writeIndexFile();
        writeSnapshotBytes(seal.next().baseOffset, seal.snapshot());
        if (seal.keySnapshot() != null) {
            writeKeySnapshot(seal.next().baseOffset, seal.keySnapshot());
        }
        seal.next().dropPendingName();
        DurableFiles.fsyncDirectory(dir);
    }

    /** A snapshot only bounds replay: failing to write one is logged, not fatal (recovery uses an older one). */
    private void writeSnapshotBytes(long offset, ByteBuffer bytes) {
        try {
            ProducerSnapshotFile.writeBytes(dir, offset, bytes);
            ProducerSnapshotFile.retainNewest(dir, SNAPSHOTS_TO_KEEP);
        } catch (IOException e) {
            LOG.warn("{}: cannot write the producer state snapshot at offset {}", this, offset, e);
        }
    }

    /** Like a producer snapshot, a key window snapshot only bounds replay: failing to write one is logged. */
    private void writeKeySnapshot(long offset, ByteBuffer bytes) {
        try {
            KeyWindowFile.writeBytes(dir, offset, bytes);
            KeyWindowFile.retainNewest(dir, SNAPSHOTS_TO_KEEP);
        } catch (IOException e) {
            LOG.warn("{}: cannot write the key window snapshot at offset {}", this, offset, e);
        }
    }

    /** {@link #writeSnapshotBytes}, streamed from the live table (clean close: the table no longer changes). */
    private void writeSnapshot(long offset) {
        try {
            ProducerSnapshotFile.write(dir, offset, applier.maxProducerId(), applier.producers());
            ProducerSnapshotFile.retainNewest(dir, SNAPSHOTS_TO_KEEP);
        } catch (IOException e) {
            LOG.warn("{}: cannot write the producer state snapshot at offset {}", this, offset, e);
        }
    }

    private boolean moveTo(State next) {
        while (true) {
            State now = state.get();
            if (!now.canMoveTo(next)) {
                return false;
            }
            if (state.compareAndSet(now, next)) {
                return true;
            }
        }
    }

    private void goOffline(String what, IOException cause) {
        if (moveTo(State.OFFLINE)) {
            LOG.error("{}: {}; the partition is offline until restart", this, what, cause);
            context.metrics().partitionsOffline.increment();
        }
    }

    private AppendResult unavailable() {
        return AppendResult.error(ErrorCode.KAFKA_STORAGE_ERROR,
            state.get() == State.CLOSED ? "the log is closed" : "the partition's storage failed");
    }

    @Override
    public void whenDurable(long offset, DurabilityCallback callback) {
        durability.whenDurable(offset, callback);
    }

    /** Natively: the tracker keeps {@code token} in a primitive array, so a registration allocates nothing. */
    @Override
    public void whenDurable(long offset, DurabilityListener listener, int token) {
        durability.whenDurable(offset, listener, token);
    }

    @Override
    public long logStartOffset() {
        return logStartOffset;
    }

    @Override
    public long highWatermark() {
        return durability.highWatermark();
    }

    @Override
    public long logEndOffset() {
        return applier.logEndOffset();
    }

    @Override
    public ReadResult read(long fetchOffset, int maxBytes) {
        long highWatermark = durability.highWatermark();
        LogSegment[] current = segments;
        long start = logStartOffset;
        if (state.get() == State.OFFLINE) {
            return new ReadResult(ErrorCode.KAFKA_STORAGE_ERROR, null, 0L, 0, highWatermark, start);
        }
        if (fetchOffset < start || fetchOffset > highWatermark) {
            return new ReadResult(ErrorCode.OFFSET_OUT_OF_RANGE, null, 0L, 0, highWatermark, start);
        }
        if (fetchOffset == highWatermark) {
            return new ReadResult(ErrorCode.NONE, null, 0L, 0, highWatermark, start);
        }
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        try {
            for (int i = floorSegment(current, fetchOffset); i < current.length; i++) {
                LogSegment segment = current[i];
                int position = segment.findBatch(fetchOffset, header);
                if (position == LogSegment.DAMAGED) {
                    return new ReadResult(ErrorCode.KAFKA_STORAGE_ERROR, null, 0L, 0, highWatermark, start);
                }
                if (position >= 0) {
                    int size = segment.readableBytes(position, maxBytes, highWatermark, fetchOffset, header);
                    if (size == LogSegment.DAMAGED) {
                        // The batch holding fetchOffset is damaged (logged and counted by the segment): the
                        // batches before it were served by earlier fetches, which stopped in front of it.
                        return new ReadResult(ErrorCode.KAFKA_STORAGE_ERROR, null, 0L, 0, highWatermark, start);
                    }
                    return new ReadResult(ErrorCode.NONE, segment.path(), position, size, highWatermark, start,
                        segment.channel());
                }
            }
            return new ReadResult(ErrorCode.NONE, null, 0L, 0, highWatermark, start);
        } catch (IOException e) {
            // Retention may have removed (and, after the delete delay, closed) the segment under our feet.
            long nowStart = logStartOffset;
            ErrorCode error = fetchOffset < nowStart ? ErrorCode.OFFSET_OUT_OF_RANGE : ErrorCode.KAFKA_STORAGE_ERROR;
            return new ReadResult(error, null, 0L, 0, highWatermark, nowStart);
        }
    }

    @Override
    public long[] offsetForTimestamp(long timestamp) throws IOException {
        if (state.get() == State.OFFLINE) {
            throw new IOException(this + " is offline: its storage failed");
        }
        LogSegment[] current = segments;
        try {
            return findTimestamp(current, timestamp);
        } catch (IOException e) {
            if (segments[0] == current[0]) {
                throw e;
            }
            // Retention removed (and, after the delete delay, closed) a segment under our feet: the answer is in
            // what is left.
            return findTimestamp(segments, timestamp);
        }
    }

    private long[] findTimestamp(LogSegment[] current, long timestamp) throws IOException {
        long highWatermark = durability.highWatermark();
        long start = logStartOffset; // records below it are deleted: not an answer
        for (LogSegment segment : current) {
            if (segment.baseOffset >= highWatermark) {
                break;
            }
            if (segment.nextOffset() <= start) {
                continue;
            }
            long[] found = segment.findTimestamp(timestamp, highWatermark, start);
            if (found != null) {
                return found;
            }
        }
        return NO_OFFSET.clone();
    }

    /** Index of the last segment whose base offset is at or below {@code offset} (0 if none). */
    private static int floorSegment(LogSegment[] current, long offset) {
        int lo = 0;
        int hi = current.length - 1;
        int found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (current[mid].baseOffset <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    @Override
    public int producerCount() {
        return applier.producerCount();
    }

    @Override
    public long producerEvictions() {
        return applier.producerEvictions();
    }

    @Override
    public long dedupRepeats() {
        return applier.dedupRepeats();
    }

    @Override
    public int dedupKeys() {
        return applier.dedupKeys();
    }

    @Override
    public long dedupEvictions() {
        return applier.dedupEvictions();
    }

    /** The segment holding {@code offset}, or null when it is below the log start or at/after the end. */
    @Override
    public LogSegment segmentFor(long offset) {
        LogSegment[] current = segments;
        if (offset < logStartOffset || offset >= applier.logEndOffset()) {
            return null;
        }
        return current[floorSegment(current, offset)];
    }

    /** {@link PartitionApplier.Host#findEarlierBatch}: the segment holding {@code beforeOffset}, then the one before. */
    @Override
    public long findEarlierBatch(long producerId, short epoch, int baseSequence, int lastOffsetDelta,
                                 long beforeOffset) {
        LogSegment[] current = segments;
        long budget = PartitionApplier.ORIGINAL_SEARCH_BYTES;
        try {
            for (int i = floorSegment(current, beforeOffset); i >= 0 && budget > 0; i--) {
                LogSegment s = current[i];
                if (s.nextOffset() <= logStartOffset) {
                    break;
                }
                long found = s.findProducerBatch(beforeOffset, (int) budget, producerId, epoch, baseSequence,
                    lastOffsetDelta);
                if (found >= logStartOffset) {
                    return found;
                }
                budget -= Math.min(budget, s.size());
            }
        } catch (IOException e) {
            LOG.warn("{}: looking for an earlier batch of producer {} failed", this, producerId, e);
        }
        return -1L;
    }

    /** The key window (tests), or null when de-duplication is off. */
    KeyWindow keyWindow() {
        return applier.keys();
    }

    /** The key verifier (tests), or null when de-duplication is off. */
    LogKeyVerifier keyVerifier() {
        return applier.verifier();
    }

    @Override
    public void forEachProducer(io.idemlog.server.state.ProducerEntryVisitor visitor) {
        lock.lock();
        try {
            applier.producers().forEachOldestFirst(visitor);
        } finally {
            lock.unlock();
        }
    }

    /** Highest producer id of any batch appended to the partition, or -1 (see the field). */
    long maxProducerId() {
        return applier.maxProducerId();
    }

    // ---- durability: the commit-lock holder ----

    boolean markDirty() {
        return dirty.compareAndSet(false, true);
    }

    void clearDirty() {
        dirty.set(false);
    }

    /**
     * One group commit of this partition, by the commit-lock holder: takes the active segment and the appended end
     * under the partition lock, fsyncs that segment (unless an earlier commit already covered the end), then
     * advances the high watermark as far as {@link #durableTarget} allows, completing the callbacks below it. On an
     * offline partition it fails the waiting callbacks instead. Returns false when there was nothing to make
     * durable.
     */
    private boolean flushLocked() {
        LogSegment segment;
        long end;
        lock.lock();
        try {
            State now = state.get();
            if (now != State.OPEN) {
                if (now == State.OFFLINE) {
                    durability.fail();
                }
                return false;
            }
            segment = applier.active();
            end = applier.logEndOffset();
        } finally {
            lock.unlock();
        }
        if (context.durableByReplication()) {
            // the Raft log is the durable copy: the applied end is the high watermark (see LogContext)
            return advanceDurable();
        }
        boolean synced = false;
        long flushedBefore = segment.flushedEnd();
        if (end > flushedBefore) {
            try {
                long t0 = System.nanoTime();
                segment.flush(context.io(), end);
                context.metrics().commitFsynced(System.nanoTime() - t0, end - flushedBefore);
            } catch (IOException e) {
                context.metrics().storageErrors.increment();
                goOffline("fsync failed", e);
                durability.fail();
                return true;
            }
            synced = true;
        }
        return advanceDurable() || synced;
    }

    /**
     * How far the high watermark may go (partition lock held): the fsync'd end of the oldest segment whose seal is
     * still pending, or of the active segment when none is. Everything below that is fsync'd in a file whose
     * directory entry, and every earlier segment, is durable.
     */
    private long durableTarget() {
        if (context.durableByReplication()) {
            return applier.logEndOffset();
        }
        PendingSeal oldest = pendingSeals.peek();
        return oldest != null ? oldest.segment().flushedEnd() : applier.active().flushedEnd();
    }

    /** Commit-lock holder: advances the high watermark to {@link #durableTarget}; true when it moved. */
    private boolean advanceDurable() {
        long target;
        lock.lock();
        try {
            target = durableTarget();
        } finally {
            lock.unlock();
        }
        if (!durability.advanceTo(target)) {
            return false;
        }
        try {
            context.listener().onHighWatermark(this, target);
        } catch (RuntimeException e) {
            LOG.error("{}: high watermark listener failed", this, e);
        }
        return true;
    }

    /** Flusher thread: one group commit, waiting for a {@link #flushNow} or a seal in progress to finish first. */
    boolean flush() {
        flushLock.lock();
        try {
            return flushLocked();
        } finally {
            flushLock.unlock();
        }
    }

    @Override
    public void flushNow() {
        if (flushLock.tryLock()) {
            try {
                flushLocked();
            } catch (RuntimeException e) {
                // Not an I/O error (flushLocked handles those): a bug, or an Error's wrapper from the file system
                // layer. As in the flusher's round: counted, the partition offline, its waiters failed, rather than
                // an exception in the request thread's burst and waiters left pending.
                context.metrics().flusherFailures.increment();
                failCommit(e);
            } finally {
                flushLock.unlock();
            }
        } else {
            // The running commit (or seal) may have read the end before our append: the flusher runs the next one.
            context.flusher().markDirty(this, true);
        }
    }

    @Override
    public void wakeFlusher() {
        context.flusher().wake();
    }

    /**
     * The flusher thread's (and {@link #flushNow}'s) answer to an unexpected exception in this partition's commit or
     * seal (a bug, or an Error from
     * the file system layer): the partition goes offline and its waiting callbacks fail with KAFKA_STORAGE_ERROR,
     * rather than waiting forever.
     */
    void failCommit(RuntimeException cause) {
        flushLock.lock();
        try {
            if (moveTo(State.OFFLINE)) {
                LOG.error("{}: group commit failed; the partition is offline until restart", this, cause);
                context.metrics().partitionsOffline.increment();
            }
            durability.fail();
        } finally {
            flushLock.unlock();
        }
    }

    // ---- maintenance ----

    /**
     * Removes the oldest segments that retention no longer keeps: by age (their newest timestamp older than
     * retentionMs) or by size (the log stays at least retentionBytes without them), and those entirely below the log
     * start offset (a DeleteRecords that could not remove a segment whose seal was pending then). Never the active
     * segment, nor one not yet entirely below the high watermark, nor one whose seal is pending (its end can equal
     * the high watermark: the seal still writes its index next to it). The files are renamed (fetches in flight
     * keep their open channel); the caller deletes them after the delete delay.
     */
    List<LogSegment> applyRetention(long nowMs) {
        LogConfig config = this.config;
        if (config.retentionMs() < 0 && config.retentionBytes() < 0 && segments[0].nextOffset() > logStartOffset) {
            return List.of();
        }
        lock.lock();
        try {
            if (state.get() != State.OPEN) {
                return List.of();
            }
            List<LogSegment> removed = removeOldestLocked(config, nowMs, true);
            if (!removed.isEmpty()) {
                LOG.info("{}: retention removed {} segment(s); log start offset is now {}", this, removed.size(),
                    logStartOffset);
            }
            return removed;
        } finally {
            lock.unlock();
        }
    }

    /** What {@link #advanceLogStart} did: the log start offset now, and the segments it removed. */
    record LogStartAdvance(long logStartOffset, List<LogSegment> removed) {
    }

    /**
     * DeleteRecords: moves the log start offset up to {@code requested} ({@value #HIGH_WATERMARK}: the high
     * watermark). The new value is written durably ({@link LogStartOffsetFile}) before anything changes; then reads
     * below it answer OFFSET_OUT_OF_RANGE and the segments entirely below it (never the active one, nor one whose
     * seal is pending) are renamed for deletion, as retention does, for the caller to delete after the delete
     * delay. A request at or below the current start changes nothing and answers the current start (as Kafka).
     * The producer state is not touched: a retry of a batch below the new start is still a duplicate.
     *
     * @throws io.idemlog.server.metadata.AdminException OFFSET_OUT_OF_RANGE when {@code requested} is above the high
     *                                                   watermark or negative (other than -1)
     * @throws IOException when the partition is offline or closed, or the file cannot be written
     */
    LogStartAdvance advanceLogStart(long requested) throws IOException,
        io.idemlog.server.metadata.AdminException {
        synchronized (startLock) {
            if (state.get() != State.OPEN) {
                throw new IOException(this + (state.get() == State.CLOSED ? " is closed" : " is offline"));
            }
            long highWatermark = durability.highWatermark();
            long target = requested == HIGH_WATERMARK ? highWatermark : requested;
            if (target < 0 || target > highWatermark) {
                throw new io.idemlog.server.metadata.AdminException(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot move the "
                    + "log start offset of " + this + " to " + requested + ": it must be in [0, " + highWatermark
                    + "] (the high watermark), or -1 for the high watermark");
            }
            if (target <= logStartOffset) {
                return new LogStartAdvance(logStartOffset, List.of());
            }
            LogStartOffsetFile.write(dir, target);
            lock.lock();
            try {
                if (state.get() != State.OPEN) {
                    throw new IOException(this + " was closed while its log start offset moved to " + target);
                }
                logStartOffset = Math.max(logStartOffset, target);
                List<LogSegment> removed = removeOldestLocked(config, 0L, false);
                LOG.info("{}: DeleteRecords moved the log start offset to {}; {} segment(s) removed", this,
                    logStartOffset, removed.size());
                return new LogStartAdvance(logStartOffset, removed);
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Cluster mode's apply of a log start entry (DeleteRecords, or retention as the leader decided it): the log start
     * offset moves to {@code target}, bounded by the applied log end, which is the same on every replica at the same
     * Raft index (the high watermark, a local fsync, is not: the leader checked the request against its own before
     * proposing it). Written durably ({@link LogStartOffsetFile}) before it changes. No segment is removed here: the
     * state machine first writes a snapshot that no longer names them, then calls {@link #removeBelowLogStart}.
     * The producer state is not touched (as {@link #advanceLogStart}).
     *
     * @return the log start offset after (the current one when {@code target} is not above it)
     * @throws io.idemlog.server.metadata.AdminException OFFSET_OUT_OF_RANGE when {@code target} is negative or above
     *                                                   the log end
     * @throws IOException when the partition is offline or closed, or the file cannot be written
     */
    long moveLogStartForReplication(long target) throws IOException, io.idemlog.server.metadata.AdminException {
        synchronized (startLock) {
            if (state.get() != State.OPEN) {
                throw new IOException(this + (state.get() == State.CLOSED ? " is closed" : " is offline"));
            }
            long end = applier.logEndOffset();
            if (target < 0 || target > end) {
                throw new io.idemlog.server.metadata.AdminException(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot move the "
                    + "log start offset of " + this + " to " + target + ": it must be in [0, " + end + "] (the "
                    + "log end)");
            }
            if (target <= logStartOffset) {
                return logStartOffset;
            }
            LogStartOffsetFile.write(dir, target);
            lock.lock();
            try {
                logStartOffset = Math.max(logStartOffset, target);
                return logStartOffset;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Renames for deletion every segment entirely below the log start offset (never the active one, nor one whose
     * seal is pending or not yet below the high watermark: a later call takes those); the caller deletes the files
     * after the delete delay. Cluster mode, after a snapshot that no longer names them.
     */
    List<LogSegment> removeBelowLogStart() {
        lock.lock();
        try {
            if (state.get() != State.OPEN) {
                return List.of();
            }
            List<LogSegment> removed = removeOldestLocked(config, 0L, false);
            if (!removed.isEmpty()) {
                LOG.info("{}: {} segment(s) below the log start offset {} removed", this, removed.size(),
                    logStartOffset);
            }
            return removed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Where retention would move the log start now (cluster mode: the leader proposes it as an entry, so that every
     * replica removes the same records at the same point of the log): the base offset of the first segment that
     * {@code retentionMs} (by its newest timestamp, against {@code nowMs}) and {@code retentionBytes} keep, the same
     * rule as {@link #applyRetention}; -1 when that is not above the log start offset.
     */
    long retentionTarget(long nowMs, long retentionMs, long retentionBytes) {
        if (retentionMs < 0 && retentionBytes < 0) {
            return -1L;
        }
        lock.lock();
        try {
            if (state.get() != State.OPEN) {
                return -1L;
            }
            LogSegment[] current = segments;
            long totalBytes = 0;
            for (LogSegment s : current) {
                totalBytes += s.size();
            }
            long highWatermark = durability.highWatermark();
            long target = -1L;
            for (int i = 0; i < current.length - 1; i++) {
                LogSegment s = current[i];
                if (!retentionDue(s, totalBytes, retentionMs, retentionBytes, nowMs) || s.nextOffset() > highWatermark) {
                    break;
                }
                target = s.nextOffset();
                totalBytes -= s.size();
            }
            return target > logStartOffset ? target : -1L;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Renames for deletion the oldest segments, front to back, while each is entirely below the log start offset or
     * (when {@code byRetention}) too old or beyond retention.bytes by {@code config}; never the active segment, one
     * not entirely below the high watermark, or one whose seal is pending (its end can equal the high watermark: the
     * seal still writes its index next to it). The one loop of retention and DeleteRecords. Partition lock held.
     */
    private List<LogSegment> removeOldestLocked(LogConfig config, long nowMs, boolean byRetention) {
        LogSegment[] current = segments;
        long totalBytes = 0;
        for (LogSegment s : current) {
            totalBytes += s.size();
        }
        long highWatermark = durability.highWatermark();
        List<LogSegment> removed = new ArrayList<>();
        for (int i = 0; i < current.length - 1; i++) {
            LogSegment s = current[i];
            boolean due = s.nextOffset() <= logStartOffset
                || byRetention && retentionDue(s, totalBytes, config.retentionMs(), config.retentionBytes(), nowMs);
            if (!due || s.nextOffset() > highWatermark || sealPending(s)) {
                break;
            }
            try {
                s.markDeleted();
            } catch (IOException e) {
                LOG.warn("{}: cannot rename {} for deletion (it goes at a later maintenance run or start)", this, s,
                    e);
                break;
            }
            removed.add(s);
            totalBytes -= s.size();
        }
        if (!removed.isEmpty()) {
            segments = Arrays.copyOfRange(current, removed.size(), current.length);
            logStartOffset = Math.max(logStartOffset, segments[0].baseOffset);
        }
        return removed;
    }

    /**
     * The retention rule of one segment, oldest first: its newest record older than {@code retentionMs}, or the log
     * ({@code totalBytes} from this segment on) still at least {@code retentionBytes} without it; -1 = no limit.
     */
    private static boolean retentionDue(LogSegment s, long totalBytes, long retentionMs, long retentionBytes,
                                        long nowMs) {
        return retentionMs >= 0 && nowMs - s.maxTimestamp() > retentionMs
            || retentionBytes >= 0 && totalBytes - s.size() >= retentionBytes;
    }

    /** Whether the segment's seal is still queued (partition lock held). */
    private boolean sealPending(LogSegment segment) {
        for (PendingSeal p : pendingSeals) {
            if (p.segment() == segment) {
                return true;
            }
        }
        return false;
    }

    /** Bytes of the segments (what DescribeLogDirs reports as the partition's size); lock-free. */
    @Override
    public long sizeInBytes() {
        long total = 0;
        for (LogSegment s : segments) {
            total += s.size();
        }
        return total;
    }

    /** Drops the producers idle for producerIdExpirationMs; returns how many. */
    int expireProducers(long nowMs) {
        lock.lock();
        try {
            return applier.expire(nowMs);
        } finally {
            lock.unlock();
        }
    }

    /** Applies new storage settings (a topic config change): the next append, roll and retention run use them. */
    void reconfigure(LogConfig newConfig) {
        config = newConfig;
        if (!newConfig.dedup().equals(dedup())) {
            dedup(newConfig.dedup());
        }
    }

    LogConfig config() {
        return config;
    }

    // ---- life cycle ----

    /**
     * The topic is being deleted: nothing more is appended, sealed or made durable (waiting callbacks fail with
     * KAFKA_STORAGE_ERROR), but the segment files stay open so that fetches already holding a file region finish
     * reading valid bytes; {@link #closeFiles} closes them after the delete delay. Takes both locks, so a group
     * commit or seal in progress finishes first and none starts after: once this returns, no thread touches the
     * partition's directory, which the caller may then rename.
     */
    void retire() {
        flushLock.lock();
        try {
            lock.lock();
            try {
                moveTo(State.CLOSED);
                pendingSeals.clear();
            } finally {
                lock.unlock();
            }
            durability.fail();
        } finally {
            flushLock.unlock();
        }
    }

    /** Closes the segment files of a retired partition. */
    void closeFiles() {
        for (LogSegment s : segments) {
            try {
                s.close();
            } catch (IOException e) {
                LOG.warn("{}: cannot close {}", this, s, e);
            }
        }
    }

    /**
     * Clean close: finish the pending seals, fsync, write the active segment's index and a producer snapshot at the
     * log end (so the next start replays nothing), close the files. Takes the commit lock (so no group commit of a
     * request thread runs concurrently), then the partition lock. Callbacks still waiting fail.
     */
    void close() throws IOException {
        runPendingSeals();
        flushLock.lock();
        try {
            long durableEnd = -1L;
            lock.lock();
            try {
                State was = state.get();
                if (!moveTo(State.CLOSED)) {
                    return;
                }
                try {
                    if (was == State.OPEN && pendingSeals.isEmpty()) {
                        LogSegment active = applier.active();
                        long logEndOffset = applier.logEndOffset();
                        active.trimPreallocation();
                        active.flush(context.io(), logEndOffset);
                        durableEnd = logEndOffset;
                        active.writeIndexFile();
                        for (LogSegment s : segments) {
                            if (s != active && s.indexFileStale()) {
                                s.writeIndexFile(); // found wrong by reads and rebuilt in memory: rewrite the file
                            }
                        }
                        KeyWindow keys = applier.keys();
                        if (keys != null) {
                            writeKeySnapshot(logEndOffset, KeyWindowFile.serialize(logEndOffset,
                                applier.dedup().header(), keys));
                        }
                        writeSnapshot(logEndOffset); // its directory fsync covers the index and keys renames too
                        // (rewritten sealed indexes included)
                    }
                } finally {
                    for (LogSegment s : segments) {
                        s.close();
                    }
                }
            } finally {
                lock.unlock();
            }
            // Complete what the last fsync (and the seals) covered, fail anything else.
            if (durableEnd >= 0) {
                durability.advanceTo(durableEnd);
            }
            durability.fail();
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * A Raft snapshot of this replica (cluster mode): the active segment fsync'd to the log end, and the producer
     * state (and key window) at the log end written to {@code producerFile} (and {@code keyFile}), files that belong
     * to the snapshot alone: the roll and close snapshots of the ordinary names are the state when the writer got
     * there, while between two appends Tick entries change it (expiry) at the same log end, so only the snapshot's
     * own files are the state at its Raft index. Returns {@code {logEnd, logStart, activeRollBaseMs, base0, size0, base1,
     * size1, ...}}: every segment not entirely below the log start offset and the bytes it holds at this point, and
     * the active segment's roll clock (-1 when it is empty). Called by the partition's single writer (nothing is appended
     * meanwhile). Unlike a roll's snapshot, a failure to write the state files is an error here: the Raft log may be
     * purged up to this snapshot.
     */
    long[] snapshotForReplication(Path producerFile, Path keyFile) throws IOException {
        runPendingSeals();
        flushLock.lock();
        try {
            long[] result;
            lock.lock();
            try {
                if (state.get() != State.OPEN) {
                    throw new IOException(this + ": cannot snapshot a partition that is " + state.get());
                }
                LogSegment active = applier.active();
                long end = applier.logEndOffset();
                active.flush(context.io(), end);
                KeyWindow keys = applier.keys();
                if (keys != null) {
                    ByteBuffer bytes = KeyWindowFile.serialize(end, applier.dedup().header(), keys);
                    DurableFiles.writeAtomically(keyFile, ch -> DurableFiles.writeFully(ch, bytes));
                } else {
                    Files.deleteIfExists(keyFile);
                }
                ProducerSnapshotFile.writeTo(producerFile, end, applier.maxProducerId(), applier.producers());
                // Segments entirely below the log start offset are not part of the snapshot (the last one always
                // is: it is where the log goes on); they are removed after it (removeBelowLogStart).
                LogSegment[] current = segments;
                int first = 0;
                while (first < current.length - 1 && current[first].nextOffset() <= logStartOffset) {
                    first++;
                }
                int n = current.length - first;
                result = new long[3 + 2 * n];
                result[0] = end;
                result[1] = logStartOffset;
                result[2] = active.size() == 0 ? -1L : active.rollBaseMs();
                for (int i = 0; i < n; i++) {
                    result[3 + 2 * i] = current[first + i].baseOffset;
                    result[4 + 2 * i] = current[first + i].size();
                }
            } finally {
                lock.unlock();
            }
            advanceDurable();
            return result;
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * After a cut to a snapshot: the active segment's roll clock as it was at the snapshot (when the active segment is
     * the snapshot's last one), so that segment.ms rolls where the other replicas roll. Before anything is applied.
     */
    void restoreActiveRollBase(long activeBase, long rollBaseMs) {
        lock.lock();
        try {
            LogSegment active = applier.active();
            if (active.baseOffset == activeBase && active.size() > 0 && rollBaseMs >= 0) {
                active.restoreRollBase(rollBaseMs);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Closes the files without flushing, sealing or snapshotting anything: what a crash leaves (tests only). */
    void abandon() {
        flushLock.lock();
        try {
            lock.lock();
            try {
                moveTo(State.CLOSED);
                for (LogSegment s : segments) {
                    try {
                        s.close();
                    } catch (IOException e) {
                        // nothing to do: a crash would not have closed it either
                    }
                }
            } finally {
                lock.unlock();
            }
            durability.fail();
        } finally {
            flushLock.unlock();
        }
    }

    State state() {
        return state.get();
    }

    Path dir() {
        return dir;
    }

    LogSegment[] segments() {
        return segments;
    }

    /**
     * The single writer's state and step (tests, and the replicated state machine's seam): calls into it must hold
     * this partition's lock, or be the only thread touching the partition.
     */
    PartitionApplier applier() {
        return applier;
    }

    /** Rolls whose seal is not yet durable (tests). */
    int pendingSeals() {
        lock.lock();
        try {
            return pendingSeals.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return topic + "-" + index;
    }
}
