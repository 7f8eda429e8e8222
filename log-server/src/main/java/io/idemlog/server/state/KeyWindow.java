package io.idemlog.server.state;

import java.nio.ByteBuffer;

/**
 * The de-duplication key window of one partition: for every de-duplication key stored within the last
 * {@code windowMs} (server append time), a 64-bit hash of the key, the offset of the record that carried it and its
 * append time. At most {@code maxKeys} entries; when full, the oldest entry is evicted (counted in
 * {@link #evictions()}), so memory is bounded whatever producers send.
 *
 * <p>Layout, no object per key: a ring of entries in insertion (= append-time) order (three parallel arrays: hash,
 * offset, time), which makes both expiry and eviction "drop the oldest", and an open-addressing index (linear
 * probing, power-of-two size, at most half full) from key hash to ring slot. Removal uses backward-shift deletion, so
 * the index never holds tombstones. Both grow by doubling up to {@code maxKeys} (a rare allocation, amortised over
 * the keys that filled them); nothing is allocated per key.
 *
 * <p>Collisions: a hash names candidates, never a verdict. Several entries may share a hash (two distinct keys that
 * collide, or one key stored again after its first entry expired); {@link #findOriginal} offers each live candidate's
 * offset to a {@link Verifier}, which compares the actual key bytes with the record stored at that offset, so a
 * collision can never make a distinct record look like a repeat.
 *
 * <p>Time: entries are kept in append order and their time is never older than the previous one's (a server clock
 * that steps back does not reorder the ring). An entry is live while {@code now - time < windowMs}.
 *
 * <p>Not thread-safe: one partition's, used under its lock. No I/O.
 */
public final class KeyWindow {
    /** Decides whether the record stored at an offset carries the key being looked up. */
    public interface Verifier {
        boolean sameKey(long offset);
    }

    private static final int MIN_CAPACITY = 16;
    private static final int EMPTY = -1;

    private final int maxKeys;
    private long windowMs;

    // The ring: entry i of the window (0 = oldest) is at physical slot (head + i) & (ringCapacity - 1).
    private long[] hashes;
    private long[] offsets;
    private long[] times;
    private int head;
    private int size;

    /** Index: ring slot, or EMPTY. Length a power of two, at least twice the ring's. */
    private int[] index;
    private int indexMask;

    private long lastTime = Long.MIN_VALUE;
    private long evictions;
    private long expirations;

    public KeyWindow(long windowMs, int maxKeys) {
        if (windowMs <= 0) {
            throw new IllegalArgumentException("windowMs must be > 0: " + windowMs);
        }
        if (maxKeys <= 0 || maxKeys > (1 << 29)) {
            throw new IllegalArgumentException("maxKeys must be in [1, 2^29]: " + maxKeys);
        }
        this.windowMs = windowMs;
        this.maxKeys = maxKeys;
        allocate(Math.min(ceilPowerOfTwo(maxKeys), MIN_CAPACITY));
    }

    private void allocate(int ringCapacity) {
        hashes = new long[ringCapacity];
        offsets = new long[ringCapacity];
        times = new long[ringCapacity];
        index = new int[ringCapacity * 2];
        java.util.Arrays.fill(index, EMPTY);
        indexMask = index.length - 1;
        head = 0;
    }

    private static int ceilPowerOfTwo(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    public long windowMs() {
        return windowMs;
    }

    /** Applies a new window length (a config change): later lookups and expiry use it. */
    public void windowMs(long windowMs) {
        if (windowMs <= 0) {
            throw new IllegalArgumentException("windowMs must be > 0: " + windowMs);
        }
        this.windowMs = windowMs;
    }

    public int maxKeys() {
        return maxKeys;
    }

    /** Entries held (live or not yet expired by an {@link #expire} or {@link #add}). */
    public int size() {
        return size;
    }

    /** Entries dropped because the window held {@code maxKeys} while still live. */
    public long evictions() {
        return evictions;
    }

    /** Entries dropped because they were older than the window. */
    public long expirations() {
        return expirations;
    }

    /** Bytes of the arrays held now (8 + 8 + 8 per ring slot, 4 per index slot), for the memory figures. */
    public long retainedBytes() {
        return (long) hashes.length * 24 + (long) index.length * 4;
    }

    private long clamp(long nowMs) {
        return Math.max(nowMs, lastTime);
    }

    /**
     * The offset of the live entry with this hash whose stored record the verifier confirms carries the same key,
     * oldest first; or -1 when there is none. No allocation.
     */
    public long findOriginal(long hash, long nowMs, Verifier verifier) {
        long now = clamp(nowMs);
        for (int i = (int) mix(hash) & indexMask; ; i = (i + 1) & indexMask) {
            int slot = index[i];
            if (slot == EMPTY) {
                return -1L;
            }
            if (hashes[slot] == hash && now - times[slot] < windowMs) {
                long offset = offsets[slot];
                if (verifier.sameKey(offset)) {
                    return offset;
                }
            }
        }
    }

    /** Whether any live entry has this hash (no verification: for tests and the benchmark's raw probe). */
    public boolean containsHash(long hash, long nowMs) {
        long now = clamp(nowMs);
        for (int i = (int) mix(hash) & indexMask; ; i = (i + 1) & indexMask) {
            int slot = index[i];
            if (slot == EMPTY) {
                return false;
            }
            if (hashes[slot] == hash && now - times[slot] < windowMs) {
                return true;
            }
        }
    }

    /**
     * Records that the record at {@code offset} carrying a key with this hash was stored at {@code nowMs}. Expires
     * what is older than the window first, then evicts the oldest entry if the window is full.
     */
    public void add(long hash, long offset, long nowMs) {
        long now = clamp(nowMs);
        lastTime = now;
        expire(now);
        if (size == maxKeys) {
            removeOldest();
            evictions++;
        } else if (size == hashes.length) {
            grow();
        }
        int slot = (head + size) & (hashes.length - 1);
        hashes[slot] = hash;
        offsets[slot] = offset;
        times[slot] = now;
        size++;
        int i = (int) mix(hash) & indexMask;
        while (index[i] != EMPTY) {
            i = (i + 1) & indexMask;
        }
        index[i] = slot;
    }

    /** Drops the entries older than the window; returns how many. */
    public int expire(long nowMs) {
        long now = clamp(nowMs);
        int removed = 0;
        while (size > 0 && now - times[head] >= windowMs) {
            removeOldest();
            removed++;
        }
        expirations += removed;
        return removed;
    }

    /** Drops every entry (a changed dedup header: keys of the old header say nothing about the new one). */
    public void clear() {
        java.util.Arrays.fill(index, EMPTY);
        head = 0;
        size = 0;
    }

    private void removeOldest() {
        int slot = head;
        int i = (int) mix(hashes[slot]) & indexMask;
        while (index[i] != slot) {
            i = (i + 1) & indexMask;
        }
        deleteAt(i);
        head = (head + 1) & (hashes.length - 1);
        size--;
    }

    /** Backward-shift deletion at index position {@code hole}: later entries of the probe run move up. */
    private void deleteAt(int hole) {
        int i = hole;
        while (true) {
            i = (i + 1) & indexMask;
            int slot = index[i];
            if (slot == EMPTY) {
                break;
            }
            int home = (int) mix(hashes[slot]) & indexMask;
            // The entry at i may move to the hole if its home is not cyclically within (hole, i].
            boolean between = hole <= i ? home > hole && home <= i : home > hole || home <= i;
            if (!between) {
                index[hole] = slot;
                hole = i;
            }
        }
        index[hole] = EMPTY;
    }

    private void grow() {
        long[] h = hashes;
        long[] o = offsets;
        long[] t = times;
        int oldMask = h.length - 1;
        int n = size;
        int oldHead = head;
        allocate(Math.min(h.length * 2, ceilPowerOfTwo(maxKeys)));
        for (int k = 0; k < n; k++) {
            int from = (oldHead + k) & oldMask;
            hashes[k] = h[from];
            offsets[k] = o[from];
            times[k] = t[from];
            int i = (int) mix(h[from]) & indexMask;
            while (index[i] != EMPTY) {
                i = (i + 1) & indexMask;
            }
            index[i] = k;
        }
        size = n;
    }

    /** The index position comes from the high bits mixed down (the key hash's low bits may be weak). */
    private static long mix(long h) {
        long x = h ^ (h >>> 33);
        x *= 0xff51afd7ed558ccdL;
        return x ^ (x >>> 33);
    }

    /** Visits the entries oldest first (snapshots, tests). */
    public interface EntryVisitor {
        void entry(long hash, long offset, long timeMs);
    }

    public void forEachOldestFirst(EntryVisitor visitor) {
        int mask = hashes.length - 1;
        for (int k = 0; k < size; k++) {
            int slot = (head + k) & mask;
            visitor.entry(hashes[slot], offsets[slot], times[slot]);
        }
    }

    // ---- key hashing ----

    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;

    /**
     * A 64-bit hash of {@code length} bytes at {@code index} of {@code buffer} (an xxHash64-style mix, eight bytes at
     * a time; not the reference xxHash64 output). Absolute reads, no allocation.
     */
    public static long hash(ByteBuffer buffer, int index, int length) {
        long h = P3 + length * P1;
        int i = index;
        int end = index + length;
        while (end - i >= 8) {
            long k = buffer.getLong(i) * P2;
            k = Long.rotateLeft(k, 31) * P1;
            h ^= k;
            h = Long.rotateLeft(h, 27) * P1 + P3;
            i += 8;
        }
        while (i < end) {
            h ^= (buffer.get(i) & 0xFFL) * P3;
            h = Long.rotateLeft(h, 11) * P1;
            i++;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }
}
