package io.idemlog.consumer;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Processed ids in this JVM's memory: bounded (least recently used evicted first) and expiring (time to live from
 * the insert), thread-safe, with the store contract's locking (a second insert of an uncommitted id waits for the
 * first transaction to end).
 *
 * <p><b>What it does not guarantee.</b> Nothing survives the JVM: after a crash or restart every id is forgotten and
 * redelivered records are applied again. Consumers in other processes do not share it. An id evicted by the bound
 * before its window ended is forgotten early (counted in {@link #evictions()}). Use it for tests, and for work whose
 * duplicates are harmless but costly; use {@link JdbcProcessedIdStore} for effects that must happen once.
 *
 * <p>One lock guards everything; expired entries are dropped when met and by {@link #purge()}. Memory: about 145 bytes
 * of heap per id of 16 bytes (measured with 1,000,000 ids by jmh's StoreMeasurements; see docs/BENCHMARKS.md).
 */
public final class MemoryProcessedIdStore implements ProcessedIdStore {
    private final long maxIds;
    private final Duration window;
    private final long windowMs;
    private final long lockTimeoutNanos;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();
    /** Committed ids, least recently used first; the value is the insert time (epoch ms). Guarded by lock. */
    private final LinkedHashMap<Key, Long> committed = new LinkedHashMap<>(1024, 0.75f, true);
    /** Ids inserted by a transaction that has not ended, and which one. Guarded by lock. */
    private final Map<Key, Tx> pending = new HashMap<>();
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicLong expirations = new AtomicLong();

    private MemoryProcessedIdStore(Builder b) {
        this.maxIds = b.maxIds;
        this.window = b.window;
        this.windowMs = b.window.toMillis();
        this.lockTimeoutNanos = b.lockTimeout.toNanos();
        this.clock = b.clock;
    }

    /** A builder: 100,000 ids, 10 minute window, 30 s lock timeout, the system clock. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public StoreTransaction begin() {
        return new Tx();
    }

    @Override
    public long purge() {
        long cutoff = clock.millis() - windowMs;
        long removed = 0;
        lock.lock();
        try {
            // access order is not insert order: every entry has to be looked at
            for (Iterator<Long> it = committed.values().iterator(); it.hasNext(); ) {
                if (it.next() <= cutoff) {
                    it.remove();
                    removed++;
                }
            }
        } finally {
            lock.unlock();
        }
        expirations.addAndGet(removed);
        return removed;
    }

    @Override
    public long size() {
        lock.lock();
        try {
            return committed.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Duration window() {
        return window;
    }

    @Override
    public long maxIds() {
        return maxIds;
    }

    /** Ids evicted by the bound before their window ended. */
    public long evictions() {
        return evictions.get();
    }

    /** Ids dropped because their window ended. */
    public long expirations() {
        return expirations.get();
    }

    @Override
    public void close() {
        lock.lock();
        try {
            committed.clear();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "MemoryProcessedIdStore(max " + maxIds + ", window " + window + ")";
    }

    /** A key: scope and id bytes, compared by content. */
    private static final class Key {
        final String scope;
        final byte[] id;
        final int hash;

        Key(String scope, byte[] id) {
            this.scope = scope;
            this.id = id;
            this.hash = 31 * scope.hashCode() + Arrays.hashCode(id);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && k.scope.equals(scope) && Arrays.equals(k.id, id);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final class Tx implements StoreTransaction {
        private final List<Key> inserted = new ArrayList<>(1);
        private final List<Long> times = new ArrayList<>(1);
        private boolean ended;

        @Override
        public boolean insertIfAbsent(String scope, byte[] id, long nowMs) {
            Validation.check(scope, id);
            if (ended) {
                throw new IllegalStateException("transaction already ended");
            }
            Key key = new Key(scope, id.clone());
            long deadline = System.nanoTime() + lockTimeoutNanos;
            lock.lock();
            try {
                while (true) {
                    Tx holder = pending.get(key);
                    if (holder == this) {
                        return false; // inserted earlier in this same transaction
                    }
                    if (holder == null) {
                        Long at = committed.get(key);
                        if (at != null && at > nowMs - windowMs) {
                            return false;
                        }
                        if (at != null) {
                            committed.remove(key);
                            expirations.incrementAndGet();
                        }
                        pending.put(key, this);
                        inserted.add(key);
                        times.add(nowMs);
                        return true;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new StoreException("timed out after " + TimeUnit.NANOSECONDS.toMillis(lockTimeoutNanos)
                            + " ms waiting for another transaction that inserted the same id", null);
                    }
                    MemoryProcessedIdStore.this.ended.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException("interrupted while waiting for a concurrent insert of the same id", e);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void commit() {
            if (ended) {
                throw new IllegalStateException("transaction already ended");
            }
            lock.lock();
            try {
                for (int i = 0; i < inserted.size(); i++) {
                    Key k = inserted.get(i);
                    pending.remove(k);
                    committed.put(k, times.get(i));
                }
                while (committed.size() > maxIds) {
                    Iterator<Map.Entry<Key, Long>> eldest = committed.entrySet().iterator();
                    eldest.next();
                    eldest.remove();
                    evictions.incrementAndGet();
                }
                ended = true;
                MemoryProcessedIdStore.this.ended.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void rollback() {
            if (ended) {
                return;
            }
            lock.lock();
            try {
                for (Key k : inserted) {
                    pending.remove(k);
                }
                ended = true;
                MemoryProcessedIdStore.this.ended.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            rollback();
        }
    }

    /** Configuration of a {@link MemoryProcessedIdStore}. */
    public static final class Builder {
        private long maxIds = 100_000;
        private Duration window = Duration.ofMinutes(10);
        private Duration lockTimeout = Duration.ofSeconds(30);
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** The bound on ids kept (default 100,000); the least recently used is evicted beyond it. */
        public Builder maxIds(long maxIds) {
            if (maxIds < 1) {
                throw new IllegalArgumentException("maxIds must be at least 1: " + maxIds);
            }
            this.maxIds = maxIds;
            return this;
        }

        /** How long an id is remembered after its insert (default 10 minutes). */
        public Builder window(Duration window) {
            if (window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("window must be positive: " + window);
            }
            this.window = window;
            return this;
        }

        /** How long an insert waits for a concurrent transaction holding the same id (default 30 s). */
        public Builder lockTimeout(Duration timeout) {
            this.lockTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** The clock {@link MemoryProcessedIdStore#purge()} compares insert times with (default the system's). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The store. */
        public MemoryProcessedIdStore build() {
            return new MemoryProcessedIdStore(this);
        }
    }
}
