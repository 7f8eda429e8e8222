package io.idemlog.server.network;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide bound on bytes of requests being read or waiting to be handled (Kafka's
 * queued.max.request.bytes). A connection reserves a frame's whole size as soon as it has read the frame's size
 * field, before it buffers any of the body, and the reservation is released once the request has been handled (its
 * bytes are no longer referenced). When the bound would be exceeded, the connection stops reading (back-pressure
 * through TCP, no error to the client) and is woken when memory is released. A reservation is all-or-nothing, so a
 * connection that holds one can always finish its frame; a client that never finishes is closed by the frame
 * deadline (socket.request.read.timeout.ms), which returns its reservation.
 *
 * <p>Thread-safe: every event loop reserves and releases; wake-ups are posted back to the waiting connection's loop.
 */
public final class RequestMemory {
    private final long capacity;
    private final AtomicLong used = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> waiters = new ConcurrentLinkedQueue<>();

    /** @param capacity bytes; 0 or less means no bound */
    public RequestMemory(long capacity) {
        this.capacity = capacity;
    }

    /** No bound at all. */
    public static RequestMemory unbounded() {
        return new RequestMemory(-1);
    }

    public boolean bounded() {
        return capacity > 0;
    }

    /** Reserves {@code bytes} if they fit under the bound now. */
    public boolean tryReserve(int bytes) {
        if (capacity <= 0) {
            used.addAndGet(bytes);
            return true;
        }
        while (true) {
            long u = used.get();
            // a frame larger than the whole bound is refused by configuration validation; still, let one through
            // when nothing else is held, rather than wait forever
            if (u + bytes > capacity && u > 0) {
                return false;
            }
            if (used.compareAndSet(u, u + bytes)) {
                return true;
            }
        }
    }

    /** Returns a reservation and wakes the connections waiting for memory (each retries on its own thread). */
    public void release(int bytes) {
        used.addAndGet(-bytes);
        wakeAll();
    }

    /**
     * Calls {@code wake} (once) after the next release, or at once if memory was released since the caller's failed
     * {@link #tryReserve}: {@code wake} must only post a retry to the caller's thread.
     */
    public void awaitRelease(Runnable wake, int bytes) {
        waiters.add(wake);
        if (used.get() + bytes <= capacity || used.get() == 0) {
            wakeAll();
        }
    }

    private void wakeAll() {
        Runnable w;
        while ((w = waiters.poll()) != null) {
            w.run();
        }
    }

    /** Bytes reserved now. */
    public long used() {
        return used.get();
    }

    public long capacity() {
        return capacity;
    }
}
