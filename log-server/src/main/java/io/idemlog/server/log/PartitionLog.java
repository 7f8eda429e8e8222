package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.Varints;
import io.idemlog.server.state.DurableFiles;
import io.idemlog.server.state.ProducerSnapshotFile;
import io.idemlog.server.state.ProducerStateTable;
import io.idemlog.server.state.SequenceOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A partition: its segments, its producer state and its durability. See {@link Partition} for the contract.
 *
 * <p>Threads and what they own:
 * <ul>
 * <li>appending threads (Netty event loops): {@link #append}; the lock serialises them and guards the producer
 * state, the active segment and the log end;</li>
 * <li>reading threads: {@link #read}, {@link #offsetForTimestamp}, the getters, lock-free over the volatile
 * segment array and offsets;</li>
 * <li>the flusher thread, or a request thread through {@link #flushNow}: {@link #flushLocked} (one at a time,
 * under the flush lock; the partition lock only to read the appended end);</li>
 * <li>the maintenance thread: {@link #applyRetention} and {@link #expireProducers}, under the lock.</li>
 * </ul>
 *
 * <p>The append is split on purpose: the stateless header checks and the CRC run before the lock; then, under it,
 * {@link #decide} (producer-state check, record validation, offset assignment: a deterministic function of the
 * state, the batch and the time, with no I/O, to become the apply step of a replicated log), the write, and only
 * after a successful write the state update.
 */
final class PartitionLog implements Partition {
    /** Life cycle: OPEN -> OFFLINE (an I/O error: nothing more is written or promised) or -> CLOSED. */
    enum State { OPEN, OFFLINE, CLOSED }

    private static final Logger LOG = LoggerFactory.getLogger(PartitionLog.class);
    /** Snapshots kept per partition: the newest is normally used; older ones are the fallback if it is damaged. */
    static final int SNAPSHOTS_TO_KEEP = 3;
    private static final long[] NO_OFFSET = {-1L, -1L};

    private final String topic;
    private final int index;
    private final Path dir;
    private final LogConfig config;
    private final LogContext context;
    private final ReentrantLock lock = new ReentrantLock();
    private final DurabilityTracker durability;
    private final AtomicBoolean dirty = new AtomicBoolean();

    // Guarded by lock.
    private final ProducerStateTable producers;
    private final Varints.Cursor cursor = new Varints.Cursor();
    private LogSegment active;

    // Written under lock, read anywhere.
    private volatile LogSegment[] segments;
    private volatile long logStartOffset;
    private volatile long logEndOffset;
    private volatile State state = State.OPEN;
    private volatile int producerCount;
    private volatile long producerEvictions;
    /**
     * Highest producer id of any batch ever appended to this partition (-1: none), also of producers since expired or
     * evicted: recorded in every snapshot, so that the producer id allocator can start above it (LogManager).
     */
    private volatile long maxProducerId;

    /** Held while a group commit of this partition runs (flusher thread or {@link #flushNow}). */
    private final ReentrantLock flushLock = new ReentrantLock();
    /** Flusher thread only: whether its current round already holds this partition. */
    boolean inFlushRound;

    PartitionLog(String topic, int index, Path dir, LogContext context, List<LogSegment> segments,
                 ProducerStateTable producers, long maxProducerId) {
        this.topic = topic;
        this.index = index;
        this.dir = dir;
        this.context = context;
        this.config = context.config();
        this.producers = producers;
        this.maxProducerId = maxProducerId;
        this.segments = segments.toArray(new LogSegment[0]);
        this.active = this.segments[this.segments.length - 1];
        this.logStartOffset = this.segments[0].baseOffset;
        this.logEndOffset = active.nextOffset();
        // Everything on disk after a restart survived, and recovery fsync'd it: it is all durable.
        this.durability = new DurabilityTracker(logEndOffset);
        publishProducerStats();
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
        Objects.checkFromIndexSize(offset, length, buffer.limit());
        RecordBatch batch = new RecordBatch(buffer, offset);
        ErrorCode headerError = ProduceBatchCheck.check(batch, length, config.maxBatchBytes());
        if (headerError != ErrorCode.NONE) {
            return AppendResult.error(headerError,
                ProduceBatchCheck.describe(headerError, batch, length, config.maxBatchBytes()));
        }
        AppendResult result;
        lock.lock();
        try {
            result = appendLocked(batch, buffer, offset, length);
        } finally {
            lock.unlock();
        }
        if (result.error() == ErrorCode.NONE) {
            if (!result.duplicate()) {
                context.flusher().markDirty(this, duty == FlushDuty.FLUSHER);
            }
        } else if (state == State.OFFLINE) {
            durability.fail();
        }
        return result;
    }

    private AppendResult appendLocked(RecordBatch batch, ByteBuffer buffer, int offset, int length) {
        if (state != State.OPEN) {
            return unavailable();
        }
        long nowMs = context.clock().time();
        AppendResult rejected = decide(batch);
        if (rejected != null) {
            return rejected;
        }
        long baseOffset = logEndOffset;
        int lastOffsetDelta = batch.lastOffsetDelta();
        long lastOffset = baseOffset + lastOffsetDelta;
        batch.baseOffset(baseOffset);
        batch.partitionLeaderEpoch(0);
        try {
            maybeRoll(nowMs, length, lastOffset);
            active.append(buffer, offset, length, baseOffset, lastOffset, batch.maxTimestamp(), nowMs,
                config.indexIntervalBytes(), context.io());
        } catch (IOException e) {
            active.discardTail();
            goOffline("append at offset " + baseOffset + " failed", e);
            return unavailable();
        }
        if (config.preallocate() && !active.preallocate((long) active.size() + LogConfig.PREALLOCATE_AHEAD_BYTES,
            config.segmentBytes(), context.io())) {
            LOG.warn("{}: cannot zero-fill ahead in {}; the segment grows as it is written", this, active);
        }
        long producerId = batch.producerId();
        producers.update(producerId, batch.producerEpoch(), batch.baseSequence(), lastOffsetDelta, baseOffset, nowMs);
        if (producerId > maxProducerId) {
            maxProducerId = producerId;
        }
        logEndOffset = lastOffset + 1;
        publishProducerStats();
        return AppendResult.appended(baseOffset, lastOffset);
    }

    /**
     * The stateful part of validation: the producer-state check (which may answer a duplicate) and only then the
     * per-record walk. Returns the answer when the batch is not to be written, null when it is. No I/O, no time.
     */
    private AppendResult decide(RecordBatch batch) {
        SequenceOutcome outcome = producers.check(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
            batch.lastOffsetDelta());
        switch (outcome) {
            case DUPLICATE:
                return AppendResult.duplicate(producers.duplicateFirstOffset(), producers.duplicateLastOffset());
            case INVALID_RECORD:
                return AppendResult.error(ErrorCode.INVALID_RECORD, "producerId " + batch.producerId()
                    + " with baseSequence " + batch.baseSequence() + " is not a valid idempotent batch");
            case FENCED:
                return AppendResult.error(ErrorCode.INVALID_PRODUCER_EPOCH, "producer " + batch.producerId()
                    + " epoch " + batch.producerEpoch() + " is older than the current epoch");
            case OUT_OF_ORDER:
                return AppendResult.error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, "producer " + batch.producerId()
                    + " epoch " + batch.producerEpoch() + ": sequence " + batch.baseSequence()
                    + " does not follow the last one appended");
            default:
                break;
        }
        if (!batch.validateRecords(cursor)) {
            return AppendResult.error(ErrorCode.CORRUPT_MESSAGE, "the records of the batch are malformed");
        }
        return null;
    }

    private void maybeRoll(long nowMs, int length, long lastOffset) throws IOException {
        LogSegment segment = active;
        if (segment.size() == 0) {
            return;
        }
        if (segment.size() + (long) length > config.segmentBytes()
            || nowMs - segment.rollBaseMs() >= config.segmentMs()
            || lastOffset - segment.baseOffset > Integer.MAX_VALUE) {
            roll();
        }
    }

    /**
     * Seals the active segment (fsync'd data and index, so only the last segment can ever be torn), snapshots the
     * producer state at the new segment's base offset, and starts the new segment. The seal's fsync happens before
     * any byte goes to the new segment, hence before any offset in it can count as durable.
     */
    private void roll() throws IOException {
        long newBase = logEndOffset;
        active.seal(context.io());
        writeSnapshot(newBase);
        LogSegment next = LogSegment.create(dir, newBase);
        try {
            DurableFiles.fsyncDirectory(dir);
        } catch (IOException e) {
            next.close();
            throw e;
        }
        LogSegment[] current = segments;
        LogSegment[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = next;
        segments = grown;
        active = next;
    }

    /** A snapshot only bounds replay: failing to write one is logged, not fatal (recovery uses an older one). */
    private void writeSnapshot(long offset) {
        try {
            ProducerSnapshotFile.write(dir, offset, maxProducerId, producers);
            ProducerSnapshotFile.retainNewest(dir, SNAPSHOTS_TO_KEEP);
        } catch (IOException e) {
            LOG.warn("{}: cannot write the producer state snapshot at offset {}", this, offset, e);
        }
    }

    private void goOffline(String what, IOException cause) {
        LOG.error("{}: {}; the partition is offline until restart", this, what, cause);
        state = State.OFFLINE;
    }

    private AppendResult unavailable() {
        return AppendResult.error(ErrorCode.KAFKA_STORAGE_ERROR,
            state == State.CLOSED ? "the log is closed" : "the partition's storage failed");
    }

    @Override
    public void whenDurable(long offset, DurabilityCallback callback) {
        durability.whenDurable(offset, callback);
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
        return logEndOffset;
    }

    @Override
    public ReadResult read(long fetchOffset, int maxBytes) {
        long highWatermark = durability.highWatermark();
        LogSegment[] current = segments;
        long start = logStartOffset;
        if (state == State.OFFLINE) {
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
                if (position >= 0) {
                    int size = segment.readableBytes(position, maxBytes, highWatermark, header);
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
    public long[] offsetForTimestamp(long timestamp) {
        long highWatermark = durability.highWatermark();
        try {
            for (LogSegment segment : segments) {
                if (segment.baseOffset >= highWatermark) {
                    break;
                }
                long[] found = segment.findTimestamp(timestamp, highWatermark);
                if (found != null) {
                    return found;
                }
            }
        } catch (IOException e) {
            LOG.warn("{}: timestamp lookup failed", this, e);
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
        return producerCount;
    }

    @Override
    public long producerEvictions() {
        return producerEvictions;
    }

    /** Highest producer id of any batch appended to the partition, or -1 (see the field). */
    long maxProducerId() {
        return maxProducerId;
    }

    private void publishProducerStats() {
        producerCount = producers.size();
        producerEvictions = producers.evictions();
    }

    // ---- flusher ----

    boolean markDirty() {
        return dirty.compareAndSet(false, true);
    }

    void clearDirty() {
        dirty.set(false);
    }

    /**
     * One group commit of this partition, on the calling thread: takes the appended end under the partition lock,
     * fsyncs the segment holding it, and only then advances the high watermark (completing the callbacks below it).
     * Serialised by {@link #flushLock}: the flusher thread and threads calling {@link #flushNow} never flush the
     * same partition at once. Returns false when there was nothing to make durable.
     */
    private boolean flushLocked() {
        LogSegment segment;
        long end;
        lock.lock();
        try {
            if (state != State.OPEN) {
                return false;
            }
            segment = active;
            end = logEndOffset;
            if (end <= durability.highWatermark()) {
                return false;
            }
        } finally {
            lock.unlock();
        }
        try {
            segment.flush(context.io());
        } catch (IOException e) {
            goOffline("fsync failed", e);
            durability.fail();
            return true;
        }
        if (durability.advanceTo(end)) {
            try {
                context.listener().onHighWatermark(this, end);
            } catch (RuntimeException e) {
                LOG.error("{}: high watermark listener failed", this, e);
            }
        }
        return true;
    }

    /** Flusher thread: one group commit, waiting for a {@link #flushNow} in progress to finish first. */
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
            } finally {
                flushLock.unlock();
            }
        } else {
            // The running commit may have read the end before our append: the flusher runs the next one.
            context.flusher().markDirty(this, true);
        }
    }

    // ---- maintenance ----

    /**
     * Removes the oldest segments that retention no longer keeps: by age (their newest timestamp older than
     * retentionMs) or by size (the log stays at least retentionBytes without them). Never the active segment, nor
     * one not yet entirely below the high watermark. The files are renamed (fetches in flight keep their open
     * channel); the caller deletes them after the delete delay.
     */
    List<LogSegment> applyRetention(long nowMs) {
        if (config.retentionMs() < 0 && config.retentionBytes() < 0) {
            return List.of();
        }
        lock.lock();
        try {
            if (state != State.OPEN) {
                return List.of();
            }
            LogSegment[] current = segments;
            long totalBytes = 0;
            for (LogSegment s : current) {
                totalBytes += s.size();
            }
            long highWatermark = durability.highWatermark();
            List<LogSegment> removed = new ArrayList<>();
            for (int i = 0; i < current.length - 1; i++) {
                LogSegment s = current[i];
                boolean tooOld = config.retentionMs() >= 0 && nowMs - s.maxTimestamp() > config.retentionMs();
                boolean tooBig = config.retentionBytes() >= 0 && totalBytes - s.size() >= config.retentionBytes();
                if (!(tooOld || tooBig) || s.nextOffset() > highWatermark) {
                    break;
                }
                try {
                    s.markDeleted();
                } catch (IOException e) {
                    LOG.warn("{}: cannot rename {} for deletion", this, s, e);
                    break;
                }
                removed.add(s);
                totalBytes -= s.size();
            }
            if (!removed.isEmpty()) {
                segments = Arrays.copyOfRange(current, removed.size(), current.length);
                logStartOffset = segments[0].baseOffset;
                LOG.info("{}: retention removed {} segment(s); log start offset is now {}", this, removed.size(),
                    logStartOffset);
            }
            return removed;
        } finally {
            lock.unlock();
        }
    }

    /** Drops the producers idle for producerIdExpirationMs; returns how many. */
    int expireProducers(long nowMs) {
        lock.lock();
        try {
            int removed = producers.removeExpired(nowMs);
            publishProducerStats();
            return removed;
        } finally {
            lock.unlock();
        }
    }

    // ---- life cycle ----

    /**
     * Clean close: fsync, write the active segment's index and a producer snapshot at the log end (so the next start
     * replays nothing), close the files. Callbacks still waiting fail.
     */
    void close() throws IOException {
        long durableEnd = -1L;
        lock.lock();
        try {
            if (state == State.CLOSED) {
                return;
            }
            boolean wasOpen = state == State.OPEN;
            state = State.CLOSED;
            try {
                if (wasOpen) {
                    active.trimPreallocation();
                    active.flush(context.io());
                    durableEnd = logEndOffset;
                    active.writeIndexFile();
                    writeSnapshot(logEndOffset);
                }
            } finally {
                for (LogSegment s : segments) {
                    s.close();
                }
            }
        } finally {
            lock.unlock();
            // outside the lock: complete what the last fsync covered, fail anything else
            if (durableEnd >= 0) {
                durability.advanceTo(durableEnd);
            }
            durability.fail();
        }
    }

    /** Closes the files without flushing or snapshotting anything: what a crash leaves behind (tests only). */
    void abandon() {
        lock.lock();
        try {
            state = State.CLOSED;
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
    }

    State state() {
        return state;
    }

    Path dir() {
        return dir;
    }

    LogSegment[] segments() {
        return segments;
    }

    @Override
    public String toString() {
        return topic + "-" + index;
    }
}
