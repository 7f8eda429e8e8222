package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A partition's high watermark and the callbacks waiting for it. Callbacks are registered from any thread
 * ({@link #whenDurable}, which completes at once on the calling thread when the answer is already known).
 *
 * <p>The owner: only the thread holding the partition's commit lock ({@code owner}, PartitionLog's flush lock)
 * advances or fails the watermark, and so completes the waiting callbacks, in offset order. That thread is the
 * flusher, a request thread in {@link Partition#flushNow}, the storage thread finishing a roll, or the thread
 * closing the partition: whichever holds the lock. {@link #advanceTo} and {@link #fail} check it and throw
 * IllegalStateException otherwise, so a caller that forgets the lock fails loudly instead of racing on the
 * waiters. Callbacks run outside this object's monitor, since they hand work to other threads.
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
    /** The owner's only (see the class comment); reused to avoid an allocation per round. */
    private final ArrayList<Waiter> ready = new ArrayList<>();
    private final ReentrantLock owner;
    /** Callbacks that threw (bugs in their owners: each is logged and counted, and the others still run). */
    private final LongAdder callbackFailures;
    private long sequence;
    private boolean failed;
    private volatile long highWatermark;

    /**
     * @param highWatermark the durable end to start from
     * @param owner         the lock whose holder alone may advance or fail the watermark
     */
    DurabilityTracker(long highWatermark, ReentrantLock owner) {
        this(highWatermark, owner, new LongAdder());
    }

    /** As above, counting callbacks that throw in {@code callbackFailures}. */
    DurabilityTracker(long highWatermark, ReentrantLock owner, LongAdder callbackFailures) {
        this.highWatermark = highWatermark;
        this.owner = owner;
        this.callbackFailures = callbackFailures;
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
     * Owner only. Returns true when the watermark moved.
     */
    boolean advanceTo(long newHighWatermark) {
        checkOwner();
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

    /** Freezes the watermark and fails every waiting callback with KAFKA_STORAGE_ERROR. Owner only. */
    void fail() {
        checkOwner();
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

    private void checkOwner() {
        if (!owner.isHeldByCurrentThread()) {
            throw new IllegalStateException("the durability of a partition is advanced only by the holder of its "
                + "commit lock, not by " + Thread.currentThread().getName());
        }
    }

    synchronized boolean failed() {
        return failed;
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

    private void run(DurabilityCallback callback, ErrorCode error) {
        try {
            callback.onComplete(error);
        } catch (RuntimeException e) {
            callbackFailures.increment();
            LOG.error("durability callback failed", e);
        }
    }
}
