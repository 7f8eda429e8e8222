package io.idemlog.server.log;

import org.jctools.queues.MpscUnboundedArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * The store's background group commit: an append marks its partition dirty and wakes the flusher; each round takes
 * every dirty partition's appended end, fsyncs the partition's active segment (unless a request thread's
 * {@link PartitionLog#flushNow} already covered it), and only then advances its high watermark (which completes the
 * waiting acks=all answers, in offset order, and tells the {@link HighWatermarkListener}). Appends that land while an
 * fsync runs are covered by the next round: one fsync per partition per round, however many batches. It is not the
 * only thread that fsyncs: a request thread commits its own appends through {@code flushNow} (log.flush.thread =
 * network), and the sealer thread fsyncs rolled segments; per partition, the commit lock serialises them all.
 *
 * <p>A partition is queued at most once (its dirty flag), cleared before its end is read, so an append racing with
 * a round is either in this round's snapshot or marks the partition dirty again: none is forgotten. The thread parks
 * when there is nothing to do (no spinning) and is unparked by {@link #markDirty}, or by its 10 ms tick, which covers
 * appends whose thread promised to flush itself ({@link FlushDuty#CALLER}) and could not.
 *
 * <p>Threads: {@link #markDirty} from any appending thread; {@link #runOnce} from the flusher thread only (or from
 * a test, or from close() once the thread has stopped).
 */
final class GroupCommitFlusher implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitFlusher.class);

    private static final long TICK_NANOS = 10_000_000L;

    private final MpscUnboundedArrayQueue<PartitionLog> dirty = new MpscUnboundedArrayQueue<>(256);
    private final ArrayList<PartitionLog> round = new ArrayList<>();
    private final StorageMetrics metrics;
    private volatile Thread thread;
    private volatile boolean running;

    GroupCommitFlusher(StorageMetrics metrics) {
        this.metrics = metrics;
    }

    void start() {
        Thread t = new Thread(this, "idemlog-flusher");
        t.setDaemon(true);
        running = true;
        thread = t;
        t.start();
    }

    /** Stops the thread after its current round; the caller runs a last round itself if it needs one. */
    void stop() throws InterruptedException {
        running = false;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            t.join();
            thread = null;
        }
    }

    /**
     * Queues the partition for the next round (once, until that round takes it). {@code wake}: also wake the
     * flusher now; otherwise the caller flushes itself soon ({@link FlushDuty#CALLER}) and the flusher only covers
     * it at its periodic tick or its next wake.
     */
    void markDirty(PartitionLog partition, boolean wake) {
        if (partition.markDirty()) {
            dirty.offer(partition);
        }
        if (wake) {
            Thread t = thread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    /**
     * Wakes the flusher for partitions already queued by {@link #markDirty} without a wake (the network thread's
     * appends of one read burst with log.flush.thread=flusher: one wake per burst, not per batch).
     */
    void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * One group-commit round; returns the number of partitions whose high watermark it tried to advance.
     *
     * <p>A partition can be polled twice in one drain: an append may mark it dirty (and queue it) again right after
     * this loop cleared its flag. The second poll refreshes its prepared end; the partition is in the round once.
     * One partition's failure does not keep the others of the round from completing.
     */
    int runOnce() {
        PartitionLog partition;
        while ((partition = dirty.poll()) != null) {
            partition.clearDirty();
            if (!partition.inFlushRound) {
                partition.inFlushRound = true;
                round.add(partition);
            }
        }
        int flushed = 0;
        try {
            for (int i = 0; i < round.size(); i++) {
                PartitionLog p = round.get(i);
                p.inFlushRound = false;
                try {
                    if (p.flush()) {
                        flushed++;
                    }
                } catch (RuntimeException e) {
                    // Not an I/O error (those the partition handles): a bug. Its waiters must not wait forever.
                    metrics.flusherFailures.increment();
                    LOG.error("{}: group commit failed unexpectedly", p, e);
                    p.failCommit(e);
                }
            }
        } finally {
            round.clear();
        }
        return flushed;
    }

    @Override
    public void run() {
        while (running) {
            try {
                if (runOnce() == 0) {
                    // The tick covers appends whose thread promised to flush (FlushDuty.CALLER) and did not.
                    LockSupport.parkNanos(this, TICK_NANOS);
                }
            } catch (RuntimeException e) {
                LOG.error("flusher round failed", e);
            }
        }
    }
}
