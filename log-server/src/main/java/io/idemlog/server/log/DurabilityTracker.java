package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A partition's high watermark and the callbacks waiting for it. Callbacks are registered from any thread
 * ({@link #whenDurable}, which completes at once on the calling thread when the answer is already known), as a
 * {@link DurabilityCallback} or as a {@link DurabilityListener} with a token (one listener, many waits, no object
 * per wait); both forms share one order.
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

    /**
     * A waiter's token when it is a {@link DurabilityCallback} (a {@link DurabilityListener}'s tokens are
     * non-negative): which of the two interfaces to call, without a wrapper object.
     */
    private static final int CALLBACK = -1;

    /**
     * The waiters: a binary min-heap on (offset, registration sequence) in parallel arrays, so that a registration
     * allocates nothing (the arrays double when full, then are reused; before, one Waiter record of 32 bytes per
     * acks=all batch). A waiter is a {@link DurabilityCallback} (token {@link #CALLBACK}) or a
     * {@link DurabilityListener} with its token, so that one listener can wait for many offsets without an object
     * per wait (the produce handler's acks=all request). Guarded by this object's monitor.
     */
    private long[] heapOffsets = new long[16];
    private long[] heapSequences = new long[16];
    private Object[] heapWaiters = new Object[16];
    private int[] heapTokens = new int[16];
    private int heapSize;
    /** The owner's only (see the class comment): the waiters (and tokens) of one advance, reused across rounds. */
    private Object[] ready = new Object[16];
    private int[] readyTokens = new int[16];
    private int readyCount;
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
        register(offset, callback, CALLBACK);
    }

    /**
     * As {@link #whenDurable(long, DurabilityCallback)}, calling {@code listener.onDurable(token, error)}; in the same
     * (offset, registration) order as callbacks, the two forms interleaved. No allocation once the heap has grown.
     *
     * @throws IllegalArgumentException when {@code token} is negative
     */
    void whenDurable(long offset, DurabilityListener listener, int token) {
        if (token < 0) {
            throw new IllegalArgumentException("negative durability token " + token);
        }
        register(offset, listener, token);
    }

    private void register(long offset, Object waiter, int token) {
        ErrorCode now;
        synchronized (this) {
            if (offset < highWatermark) {
                now = ErrorCode.NONE;
            } else if (failed) {
                now = ErrorCode.KAFKA_STORAGE_ERROR;
            } else {
                push(offset, sequence++, waiter, token);
                return;
            }
        }
        run(waiter, token, now);
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
            while (heapSize > 0 && heapOffsets[0] < newHighWatermark) {
                if (readyCount == ready.length) {
                    ready = java.util.Arrays.copyOf(ready, ready.length * 2);
                    readyTokens = java.util.Arrays.copyOf(readyTokens, ready.length);
                }
                readyTokens[readyCount] = heapTokens[0];
                ready[readyCount++] = pop();
            }
        }
        completeReady(ErrorCode.NONE);
        return true;
    }

    /** Freezes the watermark and fails every waiting callback with KAFKA_STORAGE_ERROR. Owner only. */
    void fail() {
        checkOwner();
        Object[] failedWaiters;
        int[] failedTokens;
        synchronized (this) {
            failed = true;
            if (heapSize == 0) {
                return;
            }
            failedWaiters = new Object[heapSize];
            failedTokens = new int[heapSize];
            for (int i = 0; i < failedWaiters.length; i++) {
                failedTokens[i] = heapTokens[0];
                failedWaiters[i] = pop();
            }
        }
        for (int i = 0; i < failedWaiters.length; i++) {
            run(failedWaiters[i], failedTokens[i], ErrorCode.KAFKA_STORAGE_ERROR);
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
        return heapSize;
    }

    private void completeReady(ErrorCode error) {
        int n = readyCount;
        readyCount = 0;
        for (int i = 0; i < n; i++) {
            Object waiter = ready[i];
            ready[i] = null;
            run(waiter, readyTokens[i], error);
        }
    }

    // ---- the heap (monitor held)

    private static boolean before(long offsetA, long seqA, long offsetB, long seqB) {
        return offsetA < offsetB || offsetA == offsetB && seqA < seqB;
    }

    private void push(long offset, long seq, Object waiter, int token) {
        if (heapSize == heapOffsets.length) {
            int grown = heapOffsets.length * 2;
            heapOffsets = java.util.Arrays.copyOf(heapOffsets, grown);
            heapSequences = java.util.Arrays.copyOf(heapSequences, grown);
            heapWaiters = java.util.Arrays.copyOf(heapWaiters, grown);
            heapTokens = java.util.Arrays.copyOf(heapTokens, grown);
        }
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(offset, seq, heapOffsets[parent], heapSequences[parent])) {
                break;
            }
            set(i, heapOffsets[parent], heapSequences[parent], heapWaiters[parent], heapTokens[parent]);
            i = parent;
        }
        set(i, offset, seq, waiter, token);
    }

    /**
     * Removes and returns the first waiter by (offset, sequence); the heap must not be empty. Its token is
     * {@code heapTokens[0]} before the call.
     */
    private Object pop() {
        Object first = heapWaiters[0];
        int last = --heapSize;
        long offset = heapOffsets[last];
        long seq = heapSequences[last];
        Object waiter = heapWaiters[last];
        int token = heapTokens[last];
        heapWaiters[last] = null;
        if (last > 0) {
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= last) {
                    break;
                }
                if (child + 1 < last && before(heapOffsets[child + 1], heapSequences[child + 1], heapOffsets[child],
                    heapSequences[child])) {
                    child++;
                }
                if (!before(heapOffsets[child], heapSequences[child], offset, seq)) {
                    break;
                }
                set(i, heapOffsets[child], heapSequences[child], heapWaiters[child], heapTokens[child]);
                i = child;
            }
            set(i, offset, seq, waiter, token);
        }
        return first;
    }

    private void set(int i, long offset, long seq, Object waiter, int token) {
        heapOffsets[i] = offset;
        heapSequences[i] = seq;
        heapWaiters[i] = waiter;
        heapTokens[i] = token;
    }

    /** Calls the waiter: a callback when its token is {@link #CALLBACK}, else a listener with its token. */
    private void run(Object waiter, int token, ErrorCode error) {
        try {
            if (token == CALLBACK) {
                ((DurabilityCallback) waiter).onComplete(error);
            } else {
                ((DurabilityListener) waiter).onDurable(token, error);
            }
        } catch (RuntimeException e) {
            callbackFailures.increment();
            LOG.error("durability callback failed", e);
        }
    }
}
