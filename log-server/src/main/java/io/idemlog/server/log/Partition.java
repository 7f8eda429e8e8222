package io.idemlog.server.log;

import java.io.IOException;

import java.nio.ByteBuffer;

/**
 * One topic partition: a segmented log and its producer state. Thread-safe: appends are serialised by the
 * partition (its single writer), reads run concurrently with appends.
 *
 * <p>The high watermark is the durable end of the log: every offset below it has been fsync'd. Fetch and
 * ListOffsets(latest) see only what is below it, so a consumer never reads a record that a crash could take back.
 */
public interface Partition {
    String topic();

    int index();

    /**
     * Validates and appends one produced batch: the bytes {@code buffer[offset, offset + length)} (the whole RECORDS
     * field of one partition of a Produce request). Checks size, magic, CRC, record count, compression, then the
     * producer state (IDEMPOTENCE.md: fencing, duplicates, gaps), then the records themselves; on success patches
     * baseOffset and partitionLeaderEpoch in place (outside the CRC) and writes the bytes as they are. The producer
     * state advances only after the write succeeded. Never throws for bad input: it is reported in the result.
     *
     * <p>The region must lie within {@code [0, buffer.limit())} and the buffer must be writable (the patch); a
     * direct buffer is written to the file without a copy. The buffer's position and limit are restored before
     * returning. After an I/O error the partition is offline: this and every later append answer
     * KAFKA_STORAGE_ERROR.
     */
    default AppendResult append(ByteBuffer buffer, int offset, int length) {
        return append(buffer, offset, length, FlushDuty.FLUSHER);
    }

    /** {@link #append(ByteBuffer, int, int)}, saying who starts the group commit that makes it durable. */
    AppendResult append(ByteBuffer buffer, int offset, int length, FlushDuty duty);

    /**
     * {@link #append(ByteBuffer, int, int, FlushDuty)} into {@code out}, which the caller owns and reuses: the
     * produce path's form, which allocates nothing when the batch is appended (rejections and duplicates may).
     */
    default void append(ByteBuffer buffer, int offset, int length, FlushDuty duty, AppendOutcome out) {
        out.set(append(buffer, offset, length, duty));
    }

    /**
     * Whether this partition answers appends later, on another thread ({@link #append(ByteBuffer, int, int,
     * AppendCallback)}): a replicated partition (cluster mode) knows a batch's offsets only once its entry is
     * committed and applied. A single node's partition answers inline (false): the produce path then uses the
     * synchronous {@link #append(ByteBuffer, int, int, FlushDuty, AppendOutcome)}, unchanged and allocation-free.
     */
    default boolean appendsAsynchronously() {
        return false;
    }

    /**
     * The asynchronous append (docs/REPLICATION.md 4.8): the same checks and outcome as {@link #append(ByteBuffer,
     * int, int)}, the answer given to {@code callback}, inline or later on another thread. The bytes are no longer
     * needed once this returns (a replicated partition copies them into its Raft entry). The answer means what it
     * does for acks=all: in a cluster, committed (the Raft logs of a majority fsync'd) and applied on the leader; on a
     * single node this default answers after the append only, durability is {@link #whenDurable}'s.
     */
    default void append(ByteBuffer buffer, int offset, int length, AppendCallback callback) {
        callback.onAppended(append(buffer, offset, length));
    }

    /**
     * Calls {@code callback} once every offset up to and including {@code offset} is durable: at once on the
     * calling thread if it already is, otherwise later on the flusher thread, in offset order. (A callback that
     * completes at once may run before a lower offset's callback that the flusher is completing at that moment:
     * callers that answer in request order must keep that order themselves.) Completes with KAFKA_STORAGE_ERROR
     * when the offset can never become durable (a failed fsync or write, or the log closed first).
     */
    void whenDurable(long offset, DurabilityCallback callback);

    /**
     * {@link #whenDurable(long, DurabilityCallback)} for a listener that waits for several offsets at once: calls
     * {@code listener.onDurable(token, error)}, under the same rules (once, in offset then registration order, at once
     * when already known). The produce path's form: a single node's partition keeps the token beside the listener and
     * allocates nothing per registration. {@code token} must be non-negative (the partition may keep negative values
     * for itself). This default adapts it to a callback (one object per registration), for partitions whose waits
     * are not on an allocation-free path (test doubles).
     */
    default void whenDurable(long offset, DurabilityListener listener, int token) {
        if (token < 0) {
            throw new IllegalArgumentException("negative durability token " + token);
        }
        whenDurable(offset, error -> listener.onDurable(token, error));
    }

    /**
     * Makes what was appended so far durable now, on the calling thread; or, when a group commit of this partition
     * is already running, wakes the flusher thread to run the next one after it. Keeps the promise of
     * {@link FlushDuty#CALLER}.
     */
    void flushNow();

    /**
     * Wakes the background flusher to commit what this partition appended with {@link FlushDuty#CALLER} (the
     * other way to keep that promise: log.flush.thread=flusher, once per read burst). A partition without a
     * background flusher has nothing to wake (this default).
     */
    default void wakeFlusher() {
    }

    /** First offset still served (advanced by retention and by DeleteRecords). */
    long logStartOffset();

    /** Bytes of the partition's segments on disk (DescribeLogDirs' partition size). */
    default long sizeInBytes() {
        return 0L;
    }

    /** One past the last durable offset. */
    long highWatermark();

    /** One past the last appended offset (durable or not). */
    long logEndOffset();

    /**
     * Whole batches from the one holding {@code fetchOffset}, at most {@code maxBytes} of them except that the
     * first batch is returned whole even when larger (so a consumer always progresses); from one segment file, and
     * never a batch at or above the high watermark. {@code fetchOffset} equal to the high watermark gives NONE with
     * size 0; outside [logStartOffset, highWatermark] gives OFFSET_OUT_OF_RANGE; an offline partition gives
     * KAFKA_STORAGE_ERROR.
     */
    ReadResult read(long fetchOffset, int maxBytes);

    /**
     * The first offset whose record timestamp is at or after {@code timestamp}, with that record's timestamp; or
     * {@code {-1, -1}} when there is none below the high watermark. Returned as {offset, timestamp}.
     *
     * @throws IOException when the partition is offline or a segment cannot be read: "no such offset" would be a
     *                     false answer (a consumer seeking by time would skip to the end)
     */
    long[] offsetForTimestamp(long timestamp) throws IOException;

    /**
     * This node's role for the partition (docs/REPLICATION.md section 4.6): handlers answer NOT_LEADER_OR_FOLLOWER
     * unless it is {@link PartitionRole#LEADER}. A single node is always the leader.
     */
    default PartitionRole role() {
        return PartitionRole.LEADER;
    }

    /**
     * acks=all's refusal (Kafka's min.insync.replicas): when fewer replicas are in sync than the topic's
     * min.insync.replicas, an acks=all batch is answered NOT_ENOUGH_REPLICAS without being appended. A single node is
     * its own in-sync set: never refused. In a cluster: the replicas that answered the leader recently (see the
     * replicated partition).
     *
     * @return a message saying why acks=all is refused now, or null when it may be appended
     */
    default String notEnoughReplicas() {
        return null;
    }

    /**
     * The partition's current leader epoch (KIP-320): what Metadata (v7+) reports and what Fetch's and ListOffsets'
     * {@code current_leader_epoch} is checked against. In a cluster the Raft term of the leader; on a single node the
     * newest epoch of its leader-epoch cache, which is 0 (also before the first append).
     */
    default int leaderEpoch() {
        return 0;
    }

    /**
     * The node id of the partition's leader, or -1 for "this node" (a single node: handlers map -1 to the broker's
     * own node id). In a cluster, -1 also when no leader is known.
     */
    default int leaderId() {
        return -1;
    }

    /**
     * KIP-320's OffsetsForLeaderEpoch for {@code leaderEpoch}, from the partition's leader-epoch cache (Kafka's
     * LeaderEpochFileCache rules): the current epoch ends at the log end offset; an older one at the start offset of
     * the first known epoch above it, answered as the largest known epoch at or below it (the requested epoch itself
     * when below every known one); an epoch above every known one, or -1, is {@link EpochEndOffset#UNDEFINED}.
     *
     * <p>This default knows only the current epoch {@link #leaderEpoch()}, from offset 0.
     */
    default EpochEndOffset endOffsetForEpoch(int leaderEpoch) {
        int current = leaderEpoch();
        if (leaderEpoch < 0 || leaderEpoch > current) {
            return EpochEndOffset.UNDEFINED;
        }
        return leaderEpoch == current ? new EpochEndOffset(leaderEpoch, logEndOffset())
            : new EpochEndOffset(leaderEpoch, 0L);
    }

    /** Producers whose state this partition keeps. */
    int producerCount();

    /** Producers evicted so far because the partition held {@link LogConfig#maxProducersPerPartition()}. */
    long producerEvictions();

    /** Records not stored because their de-duplication key was stored within the window (since start). */
    default long dedupRepeats() {
        return 0L;
    }

    /** De-duplication keys the partition holds now. */
    default int dedupKeys() {
        return 0;
    }

    /** De-duplication keys evicted (still in the window) because the partition held dedup.max.keys. */
    default long dedupEvictions() {
        return 0L;
    }

    /**
     * Visits the producers whose state this partition keeps (least recently written first), under the partition
     * lock: the visitor must be quick and must not call back into the partition. For DescribeProducers.
     */
    default void forEachProducer(io.idemlog.server.state.ProducerEntryVisitor visitor) {
    }
}
