package io.idemlog.client.internal;

import io.idemlog.client.ProducerClosedException;

import io.idemlog.client.ProducerConfig;
import io.idemlog.client.ProducerTimeoutException;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded memory of all batches: at most {@code buffer.memory} bytes are handed out at any time.
 *
 * <p>Buffers of exactly {@code batch.size} bytes (almost all of them) are direct, allocated once on first need and
 * then recycled through a free list, so in steady state no batch allocates memory and the socket writes them
 * without a copy. A batch for one oversized record gets a heap buffer of its exact size, counted against the same
 * budget and dropped on release.
 *
 * <p>When the budget is used up, {@link #allocate} blocks the calling (application) thread until memory is
 * released or its deadline passes, then fails with a {@link ProducerTimeoutException} that names
 * {@code buffer.memory}: back-pressure instead of an OutOfMemoryError. Waiters are served in arrival order.
 *
 * <p>Thread-safe: application threads allocate, the I/O thread releases.
 */
public final class BufferPool {
    private final long totalMemory;
    private final int poolableSize;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private final ArrayDeque<Condition> waiters = new ArrayDeque<>();
    /** Memory neither handed out nor held in {@link #free}. */
    private long unallocatedMemory;
    private volatile long usedMemory;
    private volatile int waiterCount;
    private boolean closed;

    public BufferPool(long totalMemory, int poolableSize) {
        if (totalMemory < poolableSize) {
            throw new IllegalArgumentException("total " + totalMemory + " < poolable size " + poolableSize);
        }
        this.totalMemory = totalMemory;
        this.poolableSize = poolableSize;
        this.unallocatedMemory = totalMemory;
    }

    public int poolableSize() {
        return poolableSize;
    }

    public long totalMemory() {
        return totalMemory;
    }

    /**
     * A buffer of {@code size} bytes (position 0, limit = capacity = size), blocking until {@code deadlineNanos}
     * (a {@link System#nanoTime()} value) when the budget is used up.
     *
     * @throws ProducerTimeoutException when no memory was freed in time
     * @throws InterruptedException     when the waiting thread is interrupted
     */
    public ByteBuffer allocate(int size, long deadlineNanos) throws InterruptedException {
        if (size > totalMemory) {
            throw new IllegalArgumentException("buffer of " + size + " bytes exceeds " + ProducerConfig.BUFFER_MEMORY
                + " (" + totalMemory + ")");
        }
        lock.lock();
        try {
            checkOpen();
            if (size == poolableSize && !free.isEmpty()) {
                ByteBuffer b = free.pollFirst();
                addUsed(size);
                return b;
            }
            boolean allocateNew;
            if (waiters.isEmpty() && freeable() >= size) {
                takeFromUnallocated(size);
                allocateNew = true;
            } else {
                allocateNew = waitFor(size, deadlineNanos);
            }
            if (!allocateNew) {
                ByteBuffer b = free.pollFirst();
                addUsed(size);
                return b;
            }
            addUsed(size);
        } finally {
            lock.unlock();
        }
        // Allocation zeroes memory: do it outside the lock. Poolable buffers are direct (written to the socket
        // without a copy and recycled); oversized ones are rare and temporary, so heap is cheaper.
        try {
            return size == poolableSize ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
        } catch (OutOfMemoryError e) {
            lock.lock();
            try {
                unallocatedMemory += size;
                addUsed(-size);
                signalNext();
            } finally {
                lock.unlock();
            }
            throw e;
        }
    }

    /**
     * Waits in line for {@code size} bytes. Returns true when the memory was taken from the unallocated budget
     * (the caller allocates), false when a free poolable buffer is to be taken instead. Called with the lock held.
     */
    private boolean waitFor(int size, long deadlineNanos) throws InterruptedException {
        Condition moreMemory = lock.newCondition();
        waiters.addLast(moreMemory);
        waiterCount = waiters.size();
        long accumulated = 0;
        try {
            while (true) {
                checkOpen();
                if (size == poolableSize && accumulated == 0 && !free.isEmpty()
                    && waiters.peekFirst() == moreMemory) {
                    return false;
                }
                if (waiters.peekFirst() == moreMemory) {
                    // Take what is there now; keep it while waiting for the rest so that a large request is not
                    // starved by a stream of small ones.
                    long got = Math.min(size - accumulated, freeable());
                    if (got > 0) {
                        takeFromUnallocated(got);
                        accumulated += got;
                    }
                    if (accumulated == size) {
                        return true;
                    }
                }
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    throw new ProducerTimeoutException("Failed to allocate " + size + " bytes within the "
                        + "configured max blocking time: " + ProducerConfig.BUFFER_MEMORY + " (" + totalMemory
                        + " bytes) is used up by batches not yet sent or acknowledged; raise "
                        + ProducerConfig.BUFFER_MEMORY + " or " + ProducerConfig.MAX_BLOCK_MS
                        + ", or slow down", false);
                }
                moreMemory.awaitNanos(remaining);
            }
        } catch (InterruptedException | RuntimeException e) {
            unallocatedMemory += accumulated;
            throw e;
        } finally {
            waiters.remove(moreMemory);
            waiterCount = waiters.size();
            signalNext();
        }
    }

    /** Bytes that could be handed out now: unallocated plus free poolable buffers. */
    private long freeable() {
        return unallocatedMemory + (long) free.size() * poolableSize;
    }

    /** Takes {@code size} bytes of budget, dropping free buffers to the garbage collector if needed. */
    private void takeFromUnallocated(long size) {
        while (unallocatedMemory < size) {
            free.pollLast();
            unallocatedMemory += poolableSize;
        }
        unallocatedMemory -= size;
    }

    private void addUsed(long delta) {
        usedMemory = usedMemory + delta;
    }

    private void signalNext() {
        Condition next = waiters.peekFirst();
        if (next != null) {
            next.signal();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new ProducerClosedException("producer closed while waiting for buffer memory", false);
        }
    }

    /** Returns a buffer obtained from {@link #allocate}. */
    public void release(ByteBuffer buffer) {
        int size = buffer.capacity();
        lock.lock();
        try {
            if (size == poolableSize && buffer.isDirect()) {
                buffer.clear();
                free.addFirst(buffer);
            } else {
                unallocatedMemory += size;
            }
            addUsed(-size);
            signalNext();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every waiter with a failure; later allocations fail too. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (Condition c : waiters) {
                c.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    public long usedMemory() {
        return usedMemory;
    }

    public long availableMemory() {
        return totalMemory - usedMemory;
    }

    public int waiters() {
        return waiterCount;
    }

    /** True when some thread waits for memory: the sender then sends everything it can, lingering or not. */
    public boolean hasWaiters() {
        return waiterCount > 0;
    }

    /** For tests: the pool's own notion of bytes not handed out, free list included. */
    long freeableForTest() {
        lock.lock();
        try {
            return freeable();
        } finally {
            lock.unlock();
        }
    }

    /** Converts a max.block.ms budget into a deadline. */
    public static long deadline(long maxBlockMs) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxBlockMs);
    }
}
