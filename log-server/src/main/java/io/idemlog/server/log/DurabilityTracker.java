package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * A partition's high watermark and the callbacks waiting for it. Callbacks are registered from any thread and
 * completed, in offset order, by the thread that advances the watermark (the flusher) or fails it; always outside
 * this object's lock, since they hand work to other threads and must not run under storage locks.
 *
 * <p>Once failed (an fsync or a write failed, or the partition closed), the watermark never moves again: waiting
 * and later callbacks above it complete with KAFKA_STORAGE_ERROR, because nothing above it can be promised durable.
 */
final class DurabilityTracker {
    private static final Logger LOG = LoggerFactory.getLogger(DurabilityTracker.class);

    private record Waiter(long offset, long sequence, DurabilityCallback callback) {
    }

    private static final Comparator<Waiter> ORDER =
        Comparator.comparingLong(Waiter::offset).thenComparingLong(Waiter::sequence);

    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>(ORDER);
    /** Completed by the advancing thread only; reused to avoid an allocation per round. */
    private final ArrayList<Waiter> ready = new ArrayList<>();
    private long sequence;
    private boolean failed;
    private volatile long highWatermark;

    DurabilityTracker(long highWatermark) {
        this.highWatermark = highWatermark;
    }

    long highWatermark() {
        return highWatermark;
    }

    /** Calls back at once (on this thread) if {@code offset} is below the watermark or can never get there. */
    void whenDurable(long offset, DurabilityCallback callback) {
        ErrorCode now;
        synchronized (this) {
            if (offset < highWatermark) {
                now = ErrorCode.NONE;
            } else if (failed) {
                now = ErrorCode.KAFKA_STORAGE_ERROR;
            } else {
                waiters.add(new Waiter(offset, sequence++, callback));
                return;
            }
        }
        run(callback, now);
    }

    /**
     * Moves the watermark up to {@code newHighWatermark} and completes the callbacks now below it, in offset order.
     * Called by one thread at a time (the flusher). Returns true when the watermark moved.
     */
    boolean advanceTo(long newHighWatermark) {
        synchronized (this) {
            if (failed || newHighWatermark <= highWatermark) {
                return false;
            }
            highWatermark = newHighWatermark;
            while (!waiters.isEmpty() && waiters.peek().offset < newHighWatermark) {
                ready.add(waiters.poll());
            }
        }
        completeReady(ErrorCode.NONE);
        return true;
    }

    /** Freezes the watermark and fails every waiting callback with KAFKA_STORAGE_ERROR. */
    void fail() {
        ArrayList<Waiter> failedWaiters;
        synchronized (this) {
            failed = true;
            if (waiters.isEmpty()) {
                return;
            }
            failedWaiters = new ArrayList<>(waiters.size());
            while (!waiters.isEmpty()) {
                failedWaiters.add(waiters.poll());
            }
        }
        for (Waiter w : failedWaiters) {
            run(w.callback, ErrorCode.KAFKA_STORAGE_ERROR);
        }
    }

    synchronized int waiting() {
        return waiters.size();
    }

    private void completeReady(ErrorCode error) {
        for (int i = 0; i < ready.size(); i++) {
            run(ready.get(i).callback, error);
        }
        ready.clear();
    }

    private static void run(DurabilityCallback callback, ErrorCode error) {
        try {
            callback.onComplete(error);
        } catch (RuntimeException e) {
            LOG.error("durability callback failed", e);
        }
    }
}
