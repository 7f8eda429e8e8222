package io.idemlog.server.handler;

import io.idemlog.server.log.HighWatermarkListener;
import io.idemlog.server.log.Partition;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Long-polling fetches parked until one of their partitions' high watermark moves (or their max_wait_ms ends).
 * The storage's flusher thread calls {@link #onHighWatermark}; waking a fetch only posts it back to its own
 * connection thread, so the flusher never does fetch work.
 */
public final class FetchWaits implements HighWatermarkListener {
    /** A parked fetch. {@link #wake()} must be cheap and thread-safe. */
    interface Waiter {
        void wake();
    }

    private final Map<Partition, Set<Waiter>> waiting = new ConcurrentHashMap<>();

    void park(Partition partition, Waiter waiter) {
        waiting.computeIfAbsent(partition, p -> ConcurrentHashMap.newKeySet()).add(waiter);
    }

    void unpark(Partition partition, Waiter waiter) {
        Set<Waiter> set = waiting.get(partition);
        if (set != null) {
            set.remove(waiter);
        }
    }

    /** Fetches waiting now, over every partition (for tests and metrics). */
    public int parked() {
        int n = 0;
        for (Set<Waiter> s : waiting.values()) {
            n += s.size();
        }
        return n;
    }

    @Override
    public void onHighWatermark(Partition partition, long highWatermark) {
        Set<Waiter> set = waiting.get(partition);
        if (set == null || set.isEmpty()) {
            return;
        }
        for (Waiter w : set) {
            set.remove(w);
            w.wake();
        }
    }
}
