package io.idemlog.server;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.AppendResult;
import io.idemlog.server.log.DurabilityCallback;
import io.idemlog.server.log.EpochEndOffset;
import io.idemlog.server.log.FlushDuty;
import io.idemlog.server.log.HighWatermarkListener;
import io.idemlog.server.log.LogStore;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import io.idemlog.server.log.ReadResult;
import io.idemlog.common.record.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test double of the storage for network-layer tests: appends assign offsets (no idempotence rules), and
 * durability advances only when the test says so ({@link FakePartition#makeDurable()}), so answer ordering can be
 * checked deterministically.
 */
public final class InMemoryLogStore implements LogStore {
    private final Map<String, FakePartition[]> topics = new ConcurrentHashMap<>();
    private final AtomicLong producerIds = new AtomicLong();
    final HighWatermarkListener listener;
    public volatile boolean closed;
    /** When set, createTopic and nextProducerId wait for it (at most 30 s): a slow disk. */
    public volatile CountDownLatch diskGate;
    /** When set, createTopic throws it (once per call). */
    public volatile Exception createFailure;
    /** When set, {@link #deleteRecords} throws it (after waiting for {@link #diskGate}). */
    public volatile IOException deleteRecordsFailure;
    /** Threads that ran createTopic / nextProducerId, by name. */
    public final Set<String> diskThreads = ConcurrentHashMap.newKeySet();

    public InMemoryLogStore(HighWatermarkListener listener) {
        this.listener = listener;
    }

    @Override
    public Partition partition(String topic, int index) {
        FakePartition[] ps = topics.get(topic);
        return ps == null || index < 0 || index >= ps.length ? null : ps[index];
    }

    public FakePartition fake(String topic, int index) {
        return (FakePartition) partition(topic, index);
    }

    @Override
    public int partitionCount(String topic) {
        FakePartition[] ps = topics.get(topic);
        return ps == null ? -1 : ps.length;
    }

    @Override
    public Map<String, Integer> topics() {
        Map<String, Integer> m = new TreeMap<>();
        topics.forEach((k, v) -> m.put(k, v.length));
        return m;
    }

    @Override
    public synchronized int createTopic(String topic, int partitions) throws IOException {
        slowDisk();
        Exception failure = createFailure;
        if (failure instanceof IOException e) {
            throw e;
        } else if (failure instanceof RuntimeException e) {
            throw e;
        }
        FakePartition[] existing = topics.get(topic);
        if (existing != null) {
            return existing.length;
        }
        FakePartition[] ps = new FakePartition[partitions];
        for (int i = 0; i < partitions; i++) {
            ps[i] = new FakePartition(topic, i);
        }
        topics.put(topic, ps);
        return partitions;
    }

    /** Records the thread and waits for the disk gate like a real fsync; -1 answers the high watermark. */
    @Override
    public long deleteRecords(String topic, int partition, long offset)
        throws IOException, io.idemlog.server.metadata.AdminException {
        slowDisk();
        IOException failure = deleteRecordsFailure;
        if (failure != null) {
            throw failure;
        }
        Partition p = partition(topic, partition);
        if (p == null) {
            throw new io.idemlog.server.metadata.AdminException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown");
        }
        ((FakePartition) p).work.incrementAndGet();
        return offset == -1L ? p.highWatermark() : offset;
    }

    @Override
    public long nextProducerId() {
        slowDisk();
        return producerIds.getAndIncrement();
    }

    @Override
    public void close() {
        closed = true;
    }

    private void slowDisk() {
        diskThreads.add(Thread.currentThread().getName());
        CountDownLatch gate = diskGate;
        if (gate != null) {
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** How a {@link FakePartition} answers {@link Partition#whenDurable}. */
    public enum DurabilityMode {
        /** Waits until the test calls {@link FakePartition#makeDurable()} (or {@link Partition#flushNow()} when
         *  {@link FakePartition#durableOnFlush} is set). */
        CONTROLLED,
        /** Fails at once, on the registering thread (a tracker whose fsync already failed). */
        FAIL_INLINE,
        /** Fails from another thread, which finishes before whenDurable returns (the callback races the caller). */
        FAIL_OTHER_THREAD
    }

    /** A partition held in memory whose durability the test controls. */
    public final class FakePartition implements Partition {
        private final String topic;
        private final int index;
        private long logEnd;
        private long highWatermark;
        private final List<Object[]> waiters = new ArrayList<>();
        public volatile boolean autoDurable;
        public volatile DurabilityMode durabilityMode = DurabilityMode.CONTROLLED;
        /** When set, {@link #flushNow()} makes everything appended durable (as the real partition's does). */
        public volatile boolean durableOnFlush;
        /** When set, {@link #offsetForTimestamp} throws it (a segment that cannot be read). */
        public volatile IOException timestampLookupFailure;
        /** Calls of {@link #flushNow()} so far. */
        public final AtomicLong flushNowCalls = new AtomicLong();
        /** Calls of {@link #wakeFlusher()} so far (log.flush.thread=flusher's end of a read burst). */
        public final AtomicLong wakeFlusherCalls = new AtomicLong();
        /** This node's role for the partition (a follower answers NOT_LEADER_OR_FOLLOWER). */
        public volatile PartitionRole role = PartitionRole.LEADER;
        /** When set, acks=all is refused with this message (fewer in-sync replicas than min.insync.replicas). */
        public volatile String notEnoughReplicas;
        /** The partition's leader epoch (0 as a single node's). */
        public volatile int leaderEpoch;
        /** The leader's node id; -1 = this node. */
        public volatile int leaderId = -1;
        /** Calls that do work on the partition: append, read, offsetForTimestamp, endOffsetForEpoch, DeleteRecords. */
        public final AtomicLong work = new AtomicLong();

        /**
         * When set, the partition answers appends asynchronously (as a replicated one does): the outcome is computed
         * at once but given to the callback only when the test runs {@link #completeAppends} (on its own thread).
         */
        public volatile boolean asyncAppends;
        /** When set with {@link #asyncAppends}, every asynchronous append answers this error instead. */
        public volatile ErrorCode asyncError;
        private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> pendingAppends =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

        @Override
        public boolean appendsAsynchronously() {
            return asyncAppends;
        }

        @Override
        public void append(ByteBuffer buffer, int offset, int length, io.idemlog.server.log.AppendCallback callback) {
            ErrorCode e = asyncError;
            AppendResult r = e != null ? AppendResult.error(e, "injected") : append(buffer, offset, length);
            pendingAppends.add(() -> callback.onAppended(r));
        }

        /** Asynchronous appends waiting for their answer. */
        public int pendingAppends() {
            return pendingAppends.size();
        }

        /** Answers the waiting asynchronous appends, on the calling thread. */
        public void completeAppends() {
            Runnable r;
            while ((r = pendingAppends.poll()) != null) {
                r.run();
            }
        }

        FakePartition(String topic, int index) {
            this.topic = topic;
            this.index = index;
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
            work.incrementAndGet();
            RecordBatch b = new RecordBatch(buffer, offset);
            RecordBatch.Validation v = b.validate(length, Integer.MAX_VALUE);
            if (v != RecordBatch.Validation.VALID) {
                return AppendResult.error(ErrorCode.CORRUPT_MESSAGE, v.name());
            }
            long base;
            synchronized (this) {
                base = logEnd;
                logEnd += b.recordsCount();
            }
            b.baseOffset(base);
            if (autoDurable) {
                makeDurable();
            }
            return AppendResult.appended(base, base + b.recordsCount() - 1);
        }

        @Override
        public void whenDurable(long offset, DurabilityCallback callback) {
            switch (durabilityMode) {
                case FAIL_INLINE -> {
                    callback.onComplete(ErrorCode.KAFKA_STORAGE_ERROR);
                    return;
                }
                case FAIL_OTHER_THREAD -> {
                    Thread t = new Thread(() -> callback.onComplete(ErrorCode.KAFKA_STORAGE_ERROR), "fake-fsync");
                    t.start();
                    try {
                        t.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return;
                }
                default -> {
                }
            }
            synchronized (this) {
                if (offset >= highWatermark) {
                    waiters.add(new Object[] {offset, callback});
                    return;
                }
            }
            callback.onComplete(ErrorCode.NONE);
        }

        /** Everything appended so far becomes durable; waiting callbacks run on the calling thread. */
        public void makeDurable() {
            List<DurabilityCallback> ready = new ArrayList<>();
            long hw;
            synchronized (this) {
                highWatermark = logEnd;
                hw = highWatermark;
                waiters.removeIf(w -> {
                    if ((long) w[0] < highWatermark) {
                        ready.add((DurabilityCallback) w[1]);
                        return true;
                    }
                    return false;
                });
            }
            ready.forEach(c -> c.onComplete(ErrorCode.NONE));
            listener.onHighWatermark(this, hw);
        }

        @Override
        public void wakeFlusher() {
            wakeFlusherCalls.incrementAndGet();
        }

        @Override
        public void flushNow() {
            flushNowCalls.incrementAndGet();
            if (durableOnFlush) {
                makeDurable();
            }
        }

        @Override
        public synchronized long logStartOffset() {
            return 0;
        }

        @Override
        public synchronized long highWatermark() {
            return highWatermark;
        }

        @Override
        public synchronized long logEndOffset() {
            return logEnd;
        }

        @Override
        public synchronized ReadResult read(long fetchOffset, int maxBytes) {
            work.incrementAndGet();
            if (fetchOffset < 0 || fetchOffset > highWatermark) {
                return new ReadResult(ErrorCode.OFFSET_OUT_OF_RANGE, null, 0, 0, highWatermark, 0);
            }
            return new ReadResult(ErrorCode.NONE, null, 0, 0, highWatermark, 0);
        }

        @Override
        public long[] offsetForTimestamp(long timestamp) throws IOException {
            work.incrementAndGet();
            if (timestampLookupFailure != null) {
                throw timestampLookupFailure;
            }
            return new long[] {-1, -1};
        }

        @Override
        public PartitionRole role() {
            return role;
        }

        @Override
        public String notEnoughReplicas() {
            return notEnoughReplicas;
        }

        @Override
        public int leaderEpoch() {
            return leaderEpoch;
        }

        @Override
        public int leaderId() {
            return leaderId;
        }

        @Override
        public EpochEndOffset endOffsetForEpoch(int epoch) {
            work.incrementAndGet();
            return Partition.super.endOffsetForEpoch(epoch);
        }

        @Override
        public int producerCount() {
            return 0;
        }

        @Override
        public long producerEvictions() {
            return 0;
        }
    }
}
