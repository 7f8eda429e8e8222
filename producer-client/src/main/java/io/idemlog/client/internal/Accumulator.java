package io.idemlog.client.internal;

import io.idemlog.client.ProducerClosedException;
import io.idemlog.common.record.Header;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;

import org.jctools.queues.MpmcArrayQueue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Collects records into per-partition batches, built in place in pooled buffers: the hand-off from application
 * threads (which append) to the I/O thread (which drains sealed or lingered batches and expires old ones).
 *
 * <p>One open batch per partition. A record that does not fit seals the open batch and starts a new one; a
 * record larger than {@code batch.size} gets a buffer of its own size. Appending takes the partition's lock
 * twice at most and allocates nothing but, when a batch starts, the batch and its buffer (from the pool, which
 * may block).
 */
public final class Accumulator {
    /** Outcome of {@link #append}. */
    public enum AppendResult {
        /** Added to the partition's open batch. */
        APPENDED,
        /** Added to a new batch: the sender should be woken to schedule it (and send the sealed one). */
        APPENDED_NEW_BATCH,
        /** Not added: the record needs a new batch and the caller asked to be told first (sticky switch). */
        NEEDS_NEW_BATCH
    }

    private final int batchSize;
    private final Compression compression;
    private final int compressionLevel;
    private final long lingerMs;
    private final long deliveryTimeoutMs;
    private final BufferPool pool;
    private final boolean idempotent;
    private final int maxUnacked;
    private final ConcurrentHashMap<String, TopicQueues> topics = new ConcurrentHashMap<>();
    /** Every partition queue, for the I/O thread to scan; copied on write (new partitions are rare). */
    private volatile PartitionQueue[] all = new PartitionQueue[0];
    private final Object createLock = new Object();
    private final Set<ProducerBatch> incomplete = ConcurrentHashMap.newKeySet();
    private final AtomicInteger flushesInProgress = new AtomicInteger();
    /** Side arrays of finished batches, for the next batches; bounded (a full queue drops them). */
    private final MpmcArrayQueue<CompletionSlots> freeSlots;
    private volatile boolean closing;

    public Accumulator(int batchSize, long lingerMs, long deliveryTimeoutMs, BufferPool pool, boolean idempotent,
                       int maxUnacked) {
        this(batchSize, lingerMs, deliveryTimeoutMs, pool, idempotent, maxUnacked, Compression.NONE, 0);
    }

    /**
     * With {@code compression}: every batch is compressed with it (at {@code compressionLevel}) when it is sealed,
     * in its own pool buffer (RecordsCompressor): the memory a batch holds stays the buffer it was given.
     */
    public Accumulator(int batchSize, long lingerMs, long deliveryTimeoutMs, BufferPool pool, boolean idempotent,
                       int maxUnacked, Compression compression, int compressionLevel) {
        this.compression = compression;
        this.compressionLevel = compressionLevel;
        this.batchSize = batchSize;
        this.lingerMs = lingerMs;
        this.deliveryTimeoutMs = deliveryTimeoutMs;
        this.pool = pool;
        this.idempotent = idempotent;
        this.maxUnacked = maxUnacked;
        this.freeSlots = new MpmcArrayQueue<>((int) Math.min(4096, Math.max(16, pool.totalMemory() / batchSize)));
    }

    public BufferPool pool() {
        return pool;
    }

    /** The queues of a topic, created on first use. */
    TopicQueues topic(String name) {
        TopicQueues t = topics.get(name);
        if (t == null) {
            TopicQueues created = new TopicQueues(name);
            t = topics.putIfAbsent(name, created);
            if (t == null) {
                t = created;
            }
        }
        return t;
    }

    /** The queue of a topic-partition, created on first use. */
    public PartitionQueue queue(String topicName, int partition) {
        return queue(topic(topicName), partition);
    }

    PartitionQueue queue(TopicQueues t, int partition) {
        PartitionQueue q = t.get(partition);
        if (q != null) {
            return q;
        }
        synchronized (createLock) {
            q = t.get(partition);
            if (q == null) {
                q = t.create(partition, new PartitionQueue(t.name, partition,
                    new PartitionProducerState(idempotent, maxUnacked)));
                PartitionQueue[] a = Arrays.copyOf(all, all.length + 1);
                a[a.length - 1] = q;
                all = a;
            }
            return q;
        }
    }

    /** The topic's sticky partition for records without key, -1 before the first. */
    public int stickyPartition(String topicName) {
        return topic(topicName).stickyPartition;
    }

    /**
     * Moves the topic's sticky partition from {@code expected} to {@code next}, unless another thread moved it
     * already; returns the sticky partition now in force.
     */
    public int switchSticky(String topicName, int expected, int next) {
        TopicQueues t = topic(topicName);
        synchronized (t) {
            if (t.stickyPartition == expected) {
                t.stickyPartition = next;
            }
            return t.stickyPartition;
        }
    }

    /** Every partition queue created so far (the I/O thread scans them). */
    public PartitionQueue[] partitions() {
        return all;
    }

    /** Bytes a batch holding just this record needs. */
    public static int batchSizeFor(byte[] key, byte[] value, Header[] headers) {
        int keyLength = key == null ? -1 : key.length;
        int valueLength = value == null ? -1 : value.length;
        return RecordBatch.HEADER_SIZE + RecordBatchBuilder.estimateSizeUpperBound(keyLength, valueLength, headers);
    }

    /**
     * Appends a record to the partition's open batch, starting a new batch (blocking for memory up to
     * {@code deadlineNanos}) when there is none or the record does not fit.
     *
     * @param completion      the caller's future or callback, or null
     * @param abortOnNewBatch return {@link AppendResult#NEEDS_NEW_BATCH} instead of starting a new batch
     */
    public AppendResult append(PartitionQueue q, long timestamp, byte[] key, byte[] value, Header[] headers,
                               Object completion, long nowMs, long deadlineNanos, boolean abortOnNewBatch)
        throws InterruptedException {
        synchronized (q) {
            checkOpen();
            ProducerBatch open = q.openBatch();
            if (open != null && open.tryAppend(q.builder, timestamp, key, value, headers, completion)) {
                return AppendResult.APPENDED;
            }
        }
        if (abortOnNewBatch) {
            return AppendResult.NEEDS_NEW_BATCH;
        }
        int needed = batchSizeFor(key, value, headers);
        int size = Math.max(batchSize, needed);
        ByteBuffer buffer = pool.allocate(size, deadlineNanos);
        boolean handedOver = false;
        try {
            synchronized (q) {
                checkOpen();
                ProducerBatch open = q.openBatch();
                if (open != null) {
                    // Another thread started a batch while this one waited for memory: try it first.
                    if (open.tryAppend(q.builder, timestamp, key, value, headers, completion)) {
                        return AppendResult.APPENDED;
                    }
                    open.seal(q.builder, compression, compressionLevel);
                }
                ProducerBatch batch = new ProducerBatch(q, buffer, nowMs, deliveryTimeoutMs,
                    slots(size, key, value, headers));
                q.builder.init(buffer, 0, size);
                if (!batch.tryAppend(q.builder, timestamp, key, value, headers, completion)) {
                    throw new IllegalStateException("record does not fit an empty batch of " + size + " bytes");
                }
                q.batches.addLast(batch);
                incomplete.add(batch);
                handedOver = true;
                return AppendResult.APPENDED_NEW_BATCH;
            }
        } finally {
            if (!handedOver) {
                pool.release(buffer);
            }
        }
    }

    /** Recycled side arrays, or new ones sized for as many records like this one as the batch can hold. */
    private CompletionSlots slots(int batchBytes, byte[] key, byte[] value, Header[] headers) {
        CompletionSlots s = freeSlots.relaxedPoll();
        if (s != null) {
            return s;
        }
        int record = RecordBatchBuilder.sizeOfRecord(64, 0, key == null ? -1 : key.length,
            value == null ? -1 : value.length, headers);
        return new CompletionSlots(Math.max(8, (batchBytes - RecordBatch.HEADER_SIZE) / record + 1));
    }

    private void checkOpen() {
        if (closing) {
            throw new ProducerClosedException("producer is closed", false);
        }
    }

    /** Whether open batches are sent at once, lingering or not: a flush or close is waiting, or memory is short. */
    public boolean drainEverything() {
        return flushesInProgress.get() > 0 || closing || pool.hasWaiters();
    }

    /**
     * When the partition's first batch can be sent: {@code nowMs} or earlier if now (sealed, or lingered long
     * enough, or {@code force}), its linger deadline otherwise, {@link Long#MAX_VALUE} when there is none.
     */
    public long readyAtMs(PartitionQueue q, boolean force) {
        synchronized (q) {
            ProducerBatch head = q.batches.peekFirst();
            if (head == null) {
                return Long.MAX_VALUE;
            }
            if (force || head.isSealed() || q.batches.size() > 1) {
                return head.createdMs;
            }
            return head.createdMs + lingerMs;
        }
    }

    /** Bytes of the partition's first batch (so far), or -1 when there is none. */
    public int headSize(PartitionQueue q) {
        synchronized (q) {
            ProducerBatch head = q.batches.peekFirst();
            if (head == null) {
                return -1;
            }
            return head.isSealed() ? head.sizeInBytes() : q.builder.sizeInBytes();
        }
    }

    /** Removes and returns the partition's first batch, sealing it if still open. */
    public ProducerBatch poll(PartitionQueue q) {
        synchronized (q) {
            ProducerBatch head = q.batches.pollFirst();
            if (head != null && !head.isSealed()) {
                head.seal(q.builder, compression, compressionLevel);
            }
            return head;
        }
    }

    /** Removes the partition's never-sent batches whose delivery deadline passed, oldest first. */
    public void expire(PartitionQueue q, long nowMs, Consumer<ProducerBatch> sink) {
        List<ProducerBatch> expired = null;
        synchronized (q) {
            ProducerBatch head;
            while ((head = q.batches.peekFirst()) != null && head.deadlineMs <= nowMs) {
                q.batches.pollFirst();
                if (!head.isSealed()) {
                    head.seal(q.builder, compression, compressionLevel);
                }
                if (expired == null) {
                    expired = new ArrayList<>(2);
                }
                expired.add(head);
            }
        }
        if (expired != null) {
            // Completions run outside the lock: a callback may call send().
            expired.forEach(sink);
        }
    }

    /** The earliest delivery deadline of the partition's never-sent batches, or Long.MAX_VALUE. */
    public long earliestDeadline(PartitionQueue q) {
        synchronized (q) {
            ProducerBatch head = q.batches.peekFirst();
            return head == null ? Long.MAX_VALUE : head.deadlineMs;
        }
    }

    /** Removes every never-sent batch (forced close, fatal error). */
    public void abortAll(Consumer<ProducerBatch> sink) {
        for (PartitionQueue q : all) {
            List<ProducerBatch> drained = new ArrayList<>();
            synchronized (q) {
                ProducerBatch b;
                while ((b = q.batches.pollFirst()) != null) {
                    if (!b.isSealed()) {
                        b.seal(q.builder, compression, compressionLevel);
                    }
                    drained.add(b);
                }
            }
            drained.forEach(sink);
        }
    }

    /** Whether some partition still holds never-sent batches. */
    public boolean hasUndrained() {
        for (PartitionQueue q : all) {
            synchronized (q) {
                if (!q.batches.isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A batch is finished (success or failure): returns its memory and wakes flush() waiters. */
    public void deallocate(ProducerBatch batch) {
        if (incomplete.remove(batch)) {
            pool.release(batch.buffer());
            freeSlots.relaxedOffer(batch.slots);
        }
        batch.markDone();
    }

    /** Batches created and not finished. */
    public int incompleteCount() {
        return incomplete.size();
    }

    public void beginFlush() {
        flushesInProgress.incrementAndGet();
    }

    public void endFlush() {
        flushesInProgress.decrementAndGet();
    }

    /** Waits until every batch created before this call is finished; false when the deadline passed first. */
    public boolean awaitIncomplete(long deadlineNanos) throws InterruptedException {
        List<ProducerBatch> snapshot = new ArrayList<>(incomplete);
        for (ProducerBatch b : snapshot) {
            if (!b.awaitDone(deadlineNanos)) {
                return false;
            }
        }
        return true;
    }

    /** Stops appends; every open batch becomes ready. */
    public void close() {
        closing = true;
    }

    public boolean isClosing() {
        return closing;
    }
}
