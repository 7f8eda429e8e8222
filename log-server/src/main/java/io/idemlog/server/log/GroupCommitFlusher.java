package io.idemlog.server.log;

import org.jctools.queues.MpscUnboundedArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * The one thread that makes appends durable, for the whole store: group commit. An append marks its partition dirty
 * and wakes the flusher; each round takes every dirty partition's appended end, fsyncs the partition's active
 * segment, and only then advances its high watermark (which completes the waiting acks=all answers, in offset
 * order, and tells the {@link HighWatermarkListener}). Appends that land while an fsync runs are covered by the next
 * round: one fsync per partition per round, however many batches.
 *
 * <p>A partition is queued at most once (its dirty flag), cleared before its end is read, so an append racing with
 * a round is either in this round's snapshot or marks the partition dirty again: none is forgotten. The thread parks
 * when there is nothing to do (no spinning) and is unparked by {@link #markDirty}.
 *
 * <p>Threads: {@link #markDirty} from any appending thread; {@link #runOnce} from the flusher thread only (or from
 * a test, or from close() once the thread has stopped).
 */
final class GroupCommitFlusher implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitFlusher.class);

    private final MpscUnboundedArrayQueue<PartitionLog> dirty = new MpscUnboundedArrayQueue<>(256);
    private final ArrayList<PartitionLog> round = new ArrayList<>();
    private volatile Thread thread;
    private volatile boolean running;

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

    void markDirty(PartitionLog partition) {
        if (partition.markDirty()) {
            dirty.offer(partition);
            Thread t = thread;
            if (t != null) {
                LockSupport.unpark(t);
            }
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
            if (partition.prepareFlush() && !partition.inFlushRound) {
                partition.inFlushRound = true;
                round.add(partition);
            }
        }
        int n = round.size();
        try {
            for (int i = 0; i < n; i++) {
                PartitionLog p = round.get(i);
                p.inFlushRound = false;
                try {
                    p.completeFlush();
                } catch (RuntimeException e) {
                    LOG.error("{}: group commit failed", p, e);
                }
            }
        } finally {
            round.clear();
        }
        return n;
    }

    @Override
    public void run() {
        while (running) {
            try {
                if (runOnce() == 0) {
                    LockSupport.park(this);
                }
            } catch (RuntimeException e) {
                LOG.error("flusher round failed", e);
            }
        }
    }
}
