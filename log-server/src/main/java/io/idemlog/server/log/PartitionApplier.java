package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.Varints;
import io.idemlog.server.state.KeyWindow;
import io.idemlog.server.state.KeyWindowFile;
import io.idemlog.server.state.LeaderEpochCache;
import io.idemlog.server.state.ProducerSnapshotFile;
import io.idemlog.server.state.ProducerStateTable;
import io.idemlog.server.state.SequenceOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The single writer's state of one partition and its deterministic step (docs/REPLICATION.md, section 4.8): the
 * producer state, the de-duplication key window, the active segment and the log end, and {@link #apply}: decide
 * (producer-state check, record walk, de-dup keys), offset assignment, patch ({@code baseOffset},
 * {@code partitionLeaderEpoch}, LogAppendTime), segment append and state update.
 *
 * <p>Everything {@link #apply} and {@link #expire} do is a function of this state and their arguments: the append
 * time and the leader epoch are parameters, and nothing here reads a clock, takes a lock or starts a thread. The
 * single node ({@link PartitionLog}) calls it under its partition lock with the server clock and epoch 0; a
 * replicated partition's state machine calls it from its apply, in log order, with the entry's time and term. The
 * caller serialises every call (one writer); the getters marked volatile may be read from any thread.
 *
 * <p>What stays with the host ({@link Host}): the segment list and what a roll makes durable (its seal), the log
 * start offset, durability and the high watermark. A roll is decided here (it depends on the bytes and the time)
 * and its in-memory snapshots are taken here, at the exact state of the roll; the host creates the next file.
 */
final class PartitionApplier {
    /** What the applier needs from the partition that owns it. Called from {@link #apply}, on the writer. */
    interface Host {
        /**
         * A roll at {@code newBase}: creates the segment that follows the active one and queues the old one's seal
         * (with the producer and key window snapshots taken at the roll; {@code keySnapshot} null when
         * de-duplication is off). Returns the new active segment.
         */
        LogSegment roll(long newBase, ByteBuffer producerSnapshot, ByteBuffer keySnapshot) throws IOException;

        /** The segment holding {@code offset}, or null when it is below the log start or at/after the end. */
        LogSegment segmentFor(long offset);

        /**
         * The base offset of the stored batch of {@code producerId} with exactly this epoch, base sequence and last
         * offset delta, searched in the {@link #ORIGINAL_SEARCH_BYTES} of log before {@code beforeOffset} (a batch
         * boundary); -1 when not found there (or unreadable).
         */
        long findEarlierBatch(long producerId, short epoch, int baseSequence, int lastOffsetDelta, long beforeOffset);

        StorageIo io();

        /**
         * The epoch cache gained an entry (the first batch of a newer leader epoch is about to be written): make it
         * durable ({@link io.idemlog.server.state.LeaderEpochFile}) before that batch is.
         */
        void epochsChanged(LeaderEpochCache epochs) throws IOException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(PartitionApplier.class);
    /**
     * How far back (bytes of log before the oldest retained batch of its producer) a retry older than the retained
     * window is looked for: what several connections' worth of in-flight batches of every producer can span.
     */
    static final int ORIGINAL_SEARCH_BYTES = 16 << 20;

    private final String topic;
    private final String name;
    private final Host host;
    private final ProducerStateTable producers;
    private final Varints.Cursor cursor = new Varints.Cursor();
    private LogSegment active;
    /** Leader epoch -> first offset, for OffsetsForLeaderEpoch (KIP-320); one entry per epoch that wrote data. */
    private final LeaderEpochCache epochs;
    /** De-duplication keys: the topic's setting, and when it is on, the window with its filter and verifier. */
    private DedupConfig dedup;
    private KeyWindow keys;
    private DedupFilter filter;
    private LogKeyVerifier verifier;
    /**
     * The de-duplication header's UTF-8 bytes (null: off); volatile: the caller reads it without the lock to find a
     * compressed batch's keys before taking it ({@link ProduceBatchCheck}, {@link CompressedBatchKeys}).
     */
    private volatile byte[] dedupHeader;

    // Written by the writer, read anywhere.
    private volatile long logEndOffset;
    private volatile int producerCount;
    private volatile long producerEvictions;
    /**
     * Highest producer id of any batch ever appended to this partition (-1: none), also of producers since expired or
     * evicted: recorded in every snapshot, so that the producer id allocator can start above it (LogManager).
     */
    private volatile long maxProducerId;
    private volatile long repeatsDropped;
    private volatile int dedupKeyCount;
    private volatile long dedupEvictions;

    /**
     * @param topic  the partition's topic and {@code index} its index, for messages
     * @param active the last segment (the log end is its next offset)
     * @param keys   the recovered key window when {@code dedup} is on (null: an empty one)
     * @param epochs the recovered leader epochs (consistent with the log end: none starts at or after it)
     */
    PartitionApplier(String topic, int index, Host host, LogSegment active, ProducerStateTable producers, long maxProducerId,
                     DedupConfig dedup, KeyWindow keys, LeaderEpochCache epochs) {
        this.topic = topic;
        this.name = topic + "-" + index;
        this.host = host;
        this.active = active;
        this.producers = producers;
        this.epochs = epochs;
        this.maxProducerId = maxProducerId;
        this.logEndOffset = active.nextOffset();
        this.dedup = DedupConfig.OFF;
        dedup(dedup, keys);
        publishProducerStats();
    }

    /**
     * The deterministic step: fills {@code out} and returns null when the batch was appended (no allocation on that
     * path), or returns the rejection or duplicate answer (which the caller copies into {@code out}). The batch's
     * stateless header checks ({@link ProduceBatchCheck}) have passed. On an I/O error the segment's unwritten tail
     * is discarded, nothing of the state has moved, and the exception is the caller's (the partition goes offline).
     *
     * @param appendTimeMs the append time: producer last-write time, de-dup key time, LogAppendTime, roll age
     * @param leaderEpoch  written into the batch's {@code partitionLeaderEpoch}
     * @param config       the partition's settings for this append (read once by the caller)
     */
    AppendResult apply(RecordBatch batch, ByteBuffer buffer, int offset, int length, long appendTimeMs,
                       int leaderEpoch, LogConfig config, AppendOutcome out) throws IOException {
        AppendResult rejected = decide(batch);
        if (rejected != null) {
            return rejected;
        }
        long baseOffset = logEndOffset;
        int lastOffsetDelta = batch.lastOffsetDelta();
        long lastOffset = baseOffset + lastOffsetDelta;
        int repeats = 0;
        int writeLength = length;
        DedupFilter batchFilter = filter;
        if (keys != null) {
            CompressedBatchKeys compressed = null;
            if (batch.compression() != 0) {
                // Its keys were found outside the lock (ProduceBatchCheck); again here only if the topic's header
                // changed in between (or the caller did not prepare it).
                compressed = CompressedBatchKeys.forThread();
                if (!compressed.preparedFor(batch, dedupHeader)) {
                    ErrorCode error = compressed.prepare(batch, dedupHeader,
                        ProduceBatchCheck.maxInnerBytes(config.maxBatchBytes()));
                    if (error != ErrorCode.NONE) {
                        return AppendResult.error(error, "compressed batch refused: " + compressed.reason());
                    }
                }
                batchFilter = compressed.filter();
            }
            // After the producer-session rules (a same-session retry was answered above, as a classic duplicate):
            // drop the records whose key is stored, keeping the batch's offset and sequence range.
            repeats = batchFilter.scan(compressed != null ? compressed.batch() : batch, baseOffset, keys,
                appendTimeMs, verifier);
            if (repeats > 0 && compressed == null) {
                writeLength = filter.compact(batch);
            } else if (repeats > 0) {
                // Rebuilt from the decompressed copy and compressed again; written from this thread's buffer.
                writeLength = compressed.rebuild(batch.compression());
                batch = compressed.batch();
                buffer = batch.buffer();
                offset = 0;
            }
        }
        if (epochs.assign(leaderEpoch, baseOffset)) {
            try {
                host.epochsChanged(epochs);
            } catch (IOException e) {
                epochs.truncateFromEnd(baseOffset);
                throw e;
            }
        }
        batch.baseOffset(baseOffset);
        batch.partitionLeaderEpoch(leaderEpoch);
        long appendTime = config.logAppendTime() ? appendTimeMs : -1L;
        if (appendTime >= 0) {
            batch.stampLogAppendTime(appendTime); // after the filter: compact() would recompute the max timestamp
        }
        try {
            maybeRoll(config, appendTimeMs, writeLength, lastOffset);
            active.append(buffer, offset, writeLength, baseOffset, lastOffset, batch.maxTimestamp(), appendTimeMs,
                config.indexIntervalBytes(), host.io());
        } catch (IOException e) {
            active.discardTail();
            throw e;
        }
        if (config.preallocate() && !active.preallocate((long) active.size() + LogConfig.PREALLOCATE_AHEAD_BYTES,
            config.segmentBytes(), host.io())) {
            LOG.warn("{}: cannot zero-fill ahead in {}; the segment grows as it is written", name, active);
        }
        long producerId = batch.producerId();
        producers.update(producerId, batch.producerEpoch(), batch.baseSequence(), lastOffsetDelta, baseOffset,
            appendTimeMs);
        if (producerId > maxProducerId) {
            maxProducerId = producerId;
        }
        logEndOffset = lastOffset + 1;
        publishProducerStats();
        long[] repeated = null;
        if (keys != null) {
            // Only now, with the batch written, do its keys enter the window.
            batchFilter.commit(keys, baseOffset, appendTimeMs);
            if (repeats > 0) {
                repeated = new long[repeats * 2];
                int k = 0;
                for (int i = 0; i < batchFilter.count(); i++) {
                    long original = batchFilter.original(i);
                    if (original >= 0) {
                        repeated[k++] = i;
                        repeated[k++] = original;
                    }
                }
                repeatsDropped += repeats;
            }
            publishDedupStats();
        }
        out.appended(baseOffset, lastOffset, repeated, appendTime);
        return null;
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
            case OUT_OF_ORDER: {
                // A retry older than the retained window (KAFKA-9199): the server appends a producer's batches only
                // in sequence, so a batch before the oldest retained one was appended if it is in the log; answered
                // as the duplicate it is, with its original offsets, instead of OUT_OF_ORDER, which kafka-clients
                // retries until its delivery timeout (the batch's sequence is not the next one it waits for).
                long before = producers.precedesRetained(batch.producerId(), batch.producerEpoch(),
                    batch.baseSequence(), batch.lastOffsetDelta());
                if (before >= 0) {
                    long original = host.findEarlierBatch(batch.producerId(), batch.producerEpoch(),
                        batch.baseSequence(), batch.lastOffsetDelta(), before);
                    if (original >= 0) {
                        LOG.info("{}: producer {} epoch {} re-sent sequence {} after more than {} later batches were appended: "
                            + "answered as the duplicate of offset {} (found in the log)", name, batch.producerId(),
                            batch.producerEpoch(), batch.baseSequence(), ProducerStateTable.RETAINED_BATCHES,
                            original);
                        return AppendResult.duplicate(original, original + batch.lastOffsetDelta());
                    }
                }
                return AppendResult.error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, "producer " + batch.producerId()
                    + " epoch " + batch.producerEpoch() + ": sequence " + batch.baseSequence()
                    + " does not follow the last one appended (" + producers.describe(batch.producerId()) + ")"
                    + (before >= 0 ? "; it precedes the retained batches and is not in the " + (ORIGINAL_SEARCH_BYTES
                    >> 20) + " MiB of log before offset " + before : ""));
            }
            default:
                break;
        }
        // A compressed batch's records were checked by ProduceBatchCheck (decompressing, outside the lock).
        // With de-duplication on, the same walk also finds each record's key (DedupFilter.scan then reuses it).
        boolean recordsValid = batch.compression() != 0
            || (keys != null ? filter.validate(batch, cursor) : batch.validateRecords(cursor));
        if (!recordsValid) {
            return AppendResult.error(ErrorCode.CORRUPT_MESSAGE, "the records of the batch are malformed");
        }
        return null;
    }

    private void maybeRoll(LogConfig config, long nowMs, int length, long lastOffset) throws IOException {
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
     * The writer's part of a roll: the producer state (and key window) snapshot at the new base offset, taken in
     * memory (so it is exactly the state at the roll); the host creates the next segment and queues the seal.
     */
    private void roll() throws IOException {
        long newBase = logEndOffset;
        ByteBuffer snapshot = ProducerSnapshotFile.serialize(newBase, maxProducerId, producers);
        ByteBuffer keySnapshot = keys == null ? null : KeyWindowFile.serialize(newBase, dedup.header(), keys);
        active = host.roll(newBase, snapshot, keySnapshot);
    }

    /** Drops the producers, and de-dup keys, idle past their limits at {@code nowMs}; returns the producers removed. */
    int expire(long nowMs) {
        int removed = producers.removeExpired(nowMs);
        publishProducerStats();
        if (keys != null) {
            keys.expire(nowMs);
            publishDedupStats();
        }
        return removed;
    }

    /**
     * Applies a (changed) de-duplication setting: off drops the window; a new header starts an empty one (keys of
     * another header say nothing about this one); a new window length applies at once; a new key bound keeps the
     * newest keys that fit. {@code recovered}: the window recovery loaded (null: keep or start one as above).
     */
    void dedup(DedupConfig next, KeyWindow recovered) {
        DedupConfig was = dedup;
        dedup = next;
        dedupHeader = next.enabled() ? next.headerBytes() : null;
        if (!next.enabled()) {
            keys = null;
            filter = null;
            verifier = null;
        } else if (recovered != null) {
            keys = recovered;
            filter = new DedupFilter(next);
            verifier = new LogKeyVerifier(host, next);
        } else if (keys == null || !was.header().equals(next.header())) {
            keys = new KeyWindow(next.windowMs(), next.maxKeys());
            filter = new DedupFilter(next);
            verifier = new LogKeyVerifier(host, next);
        } else {
            keys.windowMs(next.windowMs());
            if (keys.maxKeys() != next.maxKeys()) {
                KeyWindow resized = new KeyWindow(next.windowMs(), next.maxKeys());
                keys.forEachOldestFirst(resized::add);
                keys = resized;
            }
        }
        publishDedupStats();
    }

    DedupConfig dedup() {
        return dedup;
    }

    /** The key window, or null when de-duplication is off. Writer only. */
    KeyWindow keys() {
        return keys;
    }

    /** The de-duplication header's UTF-8 bytes, or null when off; any thread. */
    byte[] dedupHeader() {
        return dedupHeader;
    }

    /** The key verifier (tests), or null when de-duplication is off. */
    LogKeyVerifier verifier() {
        return verifier;
    }

    /** The producer state. Writer only (or under the host's lock). */
    ProducerStateTable producers() {
        return producers;
    }

    /** The segment being appended to. Writer only (or under the host's lock). */
    LogSegment active() {
        return active;
    }

    long logEndOffset() {
        return logEndOffset;
    }

    /** KIP-320: {epoch, endOffset} for {@code leaderEpoch} (see {@link LeaderEpochCache#endOffsetFor}). Writer only. */
    long[] endOffsetForEpoch(int leaderEpoch) {
        return epochs.endOffsetFor(leaderEpoch, logEndOffset);
    }

    /** The leader epoch cache. Writer only (or under the host's lock). */
    LeaderEpochCache epochs() {
        return epochs;
    }

    long maxProducerId() {
        return maxProducerId;
    }

    int producerCount() {
        return producerCount;
    }

    long producerEvictions() {
        return producerEvictions;
    }

    long dedupRepeats() {
        return repeatsDropped;
    }

    int dedupKeys() {
        return dedupKeyCount;
    }

    long dedupEvictions() {
        return dedupEvictions;
    }

    private void publishProducerStats() {
        producerCount = producers.size();
        producerEvictions = producers.evictions();
    }

    private void publishDedupStats() {
        KeyWindow k = keys;
        dedupKeyCount = k == null ? 0 : k.size();
        dedupEvictions = k == null ? dedupEvictions : k.evictions();
    }

    @Override
    public String toString() {
        return name;
    }
}
