package io.idemlog.client.internal;

import io.idemlog.client.Callback;
import io.idemlog.client.ProducerException;
import io.idemlog.client.RecordMetadata;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.Header;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.common.record.RecordsCompressor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One RecordBatch v2 being built or sent for one partition, in a buffer of the {@link BufferPool}, plus what the
 * records' callers asked for (a future or a callback per record) in plain arrays: appending a record adds no
 * node object.
 *
 * <p>Life: OPEN (application threads append, under the partition queue's lock) -> SEALED (the header and CRC are
 * written; the bytes no longer change, except the producer stamp) -> sent, possibly several times (I/O thread
 * only) -> DONE (futures completed, buffer returned to the pool).
 *
 * <p>The producer stamp (producer id, epoch, base sequence) is written once, when the batch is first drained,
 * and never changed afterwards: every retry sends exactly the same bytes.
 */
public final class ProducerBatch {
    private static final Logger LOG = LoggerFactory.getLogger(ProducerBatch.class);

    final PartitionQueue queue;
    private final ByteBuffer buffer;
    final long createdMs;
    final long deadlineMs;

    // Written under the partition queue's lock while open; read by the I/O thread after sealing.
    private int recordCount;
    /** Recycled when the batch is deallocated; every completion entry is null again by then. */
    final CompletionSlots slots;
    private int sizeInBytes;
    private MemoryRecords records;

    // I/O thread only.
    /** Producer id and epoch stamped on the batch; -1 when not stamped (not idempotent, or never drained). */
    long producerId = RecordBatch.NO_PRODUCER_ID;
    short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    /** Unwrapped (64-bit) base sequence: the wire value is this modulo 2^31; see PartitionProducerState. */
    long logicalBaseSequence = -1;
    int attempts;
    boolean inFlight;
    long retryAtMs;
    /** The callers were already told of a timeout; the batch stays tracked until its request is answered. */
    boolean expired;
    /** The error code of the last failed attempt, for messages; -1 when none. */
    short lastErrorCode = -1;

    private volatile boolean done;

    ProducerBatch(PartitionQueue queue, ByteBuffer buffer, long createdMs, long deliveryTimeoutMs,
                  CompletionSlots slots) {
        this.queue = queue;
        this.buffer = buffer;
        this.createdMs = createdMs;
        this.deadlineMs = createdMs + deliveryTimeoutMs;
        this.slots = slots;
    }

    /** Appends through the queue's builder; false when the record does not fit. Caller holds the queue's lock. */
    boolean tryAppend(RecordBatchBuilder builder, long timestamp, byte[] key, byte[] value, Header[] headers,
                      Object completion) {
        if (!builder.tryAppend(timestamp, key, value, headers)) {
            return false;
        }
        if (recordCount == slots.capacity()) {
            slots.grow();
        }
        slots.completions[recordCount] = completion;
        slots.timestamps[recordCount] = timestamp;
        recordCount++;
        return true;
    }

    /** Writes the header and CRC; the batch is immutable from here on (but for the producer stamp). */
    void seal(RecordBatchBuilder builder) {
        seal(builder, Compression.NONE, 0);
    }

    /**
     * Writes the header and CRC, compressing the records in place first when {@code compression} is not NONE (the
     * batch stays in its pool buffer; a batch that would not shrink to fit it stays uncompressed). Runs on the
     * thread that seals (an application thread whose record did not fit, or the I/O thread draining), under the
     * partition queue's lock, as kafka-clients compresses under its deque's lock.
     */
    void seal(RecordBatchBuilder builder, Compression compression, int level) {
        sizeInBytes = builder.close();
        if (compression != Compression.NONE && recordCount > 0) {
            sizeInBytes = COMPRESSORS.get().compressInPlace(buffer, sizeInBytes, compression, level);
        }
        records = new MemoryRecords(buffer.duplicate().position(0).limit(sizeInBytes).slice());
    }

    /** One compressor (scratch buffer, codec contexts) per thread that seals batches. */
    private static final ThreadLocal<RecordsCompressor> COMPRESSORS = ThreadLocal.withInitial(RecordsCompressor::new);

    boolean isSealed() {
        return records != null;
    }

    public int recordCount() {
        return recordCount;
    }

    public int sizeInBytes() {
        return sizeInBytes;
    }

    ByteBuffer buffer() {
        return buffer;
    }

    /** The sealed batch bytes, as sent on the wire. */
    public MemoryRecords records() {
        return records;
    }

    public String topic() {
        return queue.topic;
    }

    public int partition() {
        return queue.partition;
    }

    public boolean isStamped() {
        return logicalBaseSequence >= 0;
    }

    /** Whether the batch was ever handed to the network: if so its fate is unknown until it is answered. */
    public boolean wasSent() {
        return attempts > 0;
    }

    /** Stamps producer id, epoch and sequence into the header (CRC recomputed). Only ever once per batch. */
    void stamp(long producerId, short epoch, long logicalBaseSequence) {
        if (isStamped()) {
            throw new IllegalStateException("batch already stamped: " + this);
        }
        this.producerId = producerId;
        this.producerEpoch = epoch;
        this.logicalBaseSequence = logicalBaseSequence;
        int wireSequence = PartitionProducerState.wire(logicalBaseSequence);
        new RecordBatch(buffer, 0).stampProducerState(producerId, epoch, wireSequence);
    }

    long logicalLastSequence() {
        return logicalBaseSequence + recordCount - 1;
    }

    /** The base sequence on the wire, -1 when not stamped. */
    public int baseSequence() {
        return isStamped() ? PartitionProducerState.wire(logicalBaseSequence) : RecordBatch.NO_SEQUENCE;
    }

    public short producerEpoch() {
        return producerEpoch;
    }

    public long producerId() {
        return producerId;
    }

    public boolean isDone() {
        return done;
    }

    /** Completes every record: offsets baseOffset, baseOffset+1, ... (or -1 when unknown). I/O thread. */
    void complete(long baseOffset, long logAppendTimeMs) {
        complete(baseOffset, logAppendTimeMs, null);
    }

    /**
     * {@link #complete(long, long)}, with the server's de-duplication repeats ({@code [index, originalOffset, ...]}
     * in index order, or null): those records report the original's offset in {@link RecordMetadata#originalOffset}.
     */
    void complete(long baseOffset, long logAppendTimeMs, long[] repeats) {
        String topic = queue.topic;
        int nextRepeat = 0;
        int partition = queue.partition;
        Object[] completions = slots.completions;
        for (int i = 0; i < recordCount; i++) {
            Object c = completions[i];
            if (c == null) {
                continue;
            }
            completions[i] = null;
            long offset = baseOffset < 0 ? -1L : baseOffset + i;
            long ts = logAppendTimeMs >= 0 ? logAppendTimeMs : slots.timestamps[i];
            long original = -1L;
            if (repeats != null) {
                while (nextRepeat < repeats.length && repeats[nextRepeat] < i) {
                    nextRepeat += 2;
                }
                if (nextRepeat < repeats.length && repeats[nextRepeat] == i) {
                    original = repeats[nextRepeat + 1];
                }
            }
            RecordMetadata md = new RecordMetadata(topic, partition, offset, ts, original);
            deliver(c, md, null);
        }
    }

    /** Fails every record that was not yet told its outcome. */
    void fail(ProducerException e) {
        Object[] completions = slots.completions;
        for (int i = 0; i < recordCount; i++) {
            Object c = completions[i];
            if (c == null) {
                continue;
            }
            completions[i] = null;
            deliver(c, null, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static void deliver(Object c, RecordMetadata md, ProducerException e) {
        try {
            if (c instanceof CompletableFuture<?> f) {
                CompletableFuture<RecordMetadata> future = (CompletableFuture<RecordMetadata>) f;
                if (e == null) {
                    future.complete(md);
                } else {
                    future.completeExceptionally(e);
                }
            } else {
                ((Callback) c).onCompletion(md, e);
            }
        } catch (RuntimeException ex) {
            // A failing callback must not stop the others, nor the I/O thread.
            LOG.error("producer callback threw", ex);
        }
    }

    /** Marks the batch finished and wakes flush() waiters. Buffer release is the caller's job. */
    void markDone() {
        synchronized (this) {
            done = true;
            notifyAll();
        }
    }

    /** Waits until the batch is done or the deadline (nanoTime) passes; returns whether it is done. */
    boolean awaitDone(long deadlineNanos) throws InterruptedException {
        synchronized (this) {
            while (!done) {
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                long ms = Math.max(1, remaining / 1_000_000);
                wait(ms);
            }
            return true;
        }
    }

    @Override
    public String toString() {
        return "ProducerBatch(" + queue.topic + "-" + queue.partition + ", records=" + recordCount + ", size="
            + sizeInBytes + ", pid=" + producerId + ", epoch=" + producerEpoch + ", seq=" + baseSequence()
            + ", attempts=" + attempts + (inFlight ? ", in flight" : "") + (expired ? ", expired" : "") + ")";
    }
}
