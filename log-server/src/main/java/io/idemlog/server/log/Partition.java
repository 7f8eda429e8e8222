package io.idemlog.server.log;

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
     */
    AppendResult append(ByteBuffer buffer, int offset, int length);

    /**
     * Calls {@code callback} once every offset up to and including {@code offset} is durable: at once on the
     * calling thread if it already is, otherwise later on the flusher thread, in offset order.
     */
    void whenDurable(long offset, DurabilityCallback callback);

    /** First offset still in the log (advanced by retention). */
    long logStartOffset();

    /** One past the last durable offset. */
    long highWatermark();

    /** One past the last appended offset (durable or not). */
    long logEndOffset();

    /**
     * Whole batches from the one holding {@code fetchOffset}, at most {@code maxBytes} of them except that the
     * first batch is returned whole even when larger (so a consumer always progresses).
     */
    ReadResult read(long fetchOffset, int maxBytes);

    /**
     * The first offset whose record timestamp is at or after {@code timestamp}, with that record's timestamp; or
     * {@code {-1, -1}} when there is none below the high watermark. Returned as {offset, timestamp}.
     */
    long[] offsetForTimestamp(long timestamp);

    /** Producers whose state this partition keeps. */
    int producerCount();

    /** Producers evicted so far because the partition held {@link LogConfig#maxProducersPerPartition()}. */
    long producerEvictions();
}
