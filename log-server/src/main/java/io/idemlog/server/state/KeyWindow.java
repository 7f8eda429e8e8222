package io.idemlog.server.state;

import java.nio.ByteBuffer;

/**
 * The de-duplication key window of one partition: for every de-duplication key stored within the last
 * {@code windowMs} (server append time), a 64-bit hash of the key, the offset of the record that carried it and its
 * append time. At most {@code maxKeys} entries; when full, the oldest entry is evicted (counted in
 * {@link #evictions()}), so memory is bounded whatever producers send.
 *
 * <p>Layout, no object per key, each key's entry stored once:
 * <ul>
 * <li>a ring of entries in insertion (= append-time) order, one {@code long[]} with the three words of an entry
 * side by side (hash, offset, time: 24 bytes, so an entry is one cache line, rarely two), which makes both expiry
 * and eviction "drop the oldest" and keeps them sequential in memory;</li>
 * <li>an open-addressing index over it (linear probing, power-of-two size, at most half full), one {@code long}
 * per slot: the ring slot + 1 in the low {@value #SLOT_BITS} bits (0 = empty) and the low 34 bits of the key's
 * mixed hash above them. The index position comes from the same mixed hash, so a probe decides "not this key" from
 * the index word alone for all but ~2^-13 of the other keys it passes (the bits above the position act as a
 * fingerprint), and backward-shift deletion finds every entry's home position without reading the ring. A new key
 * therefore costs one random memory access to look up (the index line) and one to evict the oldest key at the
 * bound (its index line; the ring itself is walked in order); a stored key one more (its ring entry).</li>
 * </ul>
 * Removal uses backward-shift deletion, so the index never holds tombstones. Both grow by doubling up to
 * {@code maxKeys} (a rare allocation, amortised over the keys that filled them); nothing is allocated per key.
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
    /** Low bits of an index word: ring slot + 1 (0 = empty). The ring holds at most 2^29 entries. */
    static final int SLOT_BITS = 30;
    private static final long SLOT_MASK = (1L << SLOT_BITS) - 1;
    /** Ring words per entry: hash, offset, time. */
    private static final int STRIDE = 3;

    private final int maxKeys;
    private long windowMs;

    // The ring: entry i of the window (0 = oldest) is at physical slot (head + i) & ringMask, words
    // [slot * STRIDE, slot * STRIDE + STRIDE) of ring.
    private long[] ring;
    private int ringMask;
    private int head;
    private int size;

    /** Index: (mixed hash << SLOT_BITS) | (ring slot + 1), or 0. Length a power of two, twice the ring's. */
    private long[] index;
    private int indexMask;

    private long lastTime = Long.MIN_VALUE;
    /** Where {@link #prefetch} leaves what it loaded, so that the loads are not optimised away. */
    private long touched;
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
        ring = new long[ringCapacity * STRIDE];
        ringMask = ringCapacity - 1;
        index = new long[ringCapacity * 2];
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

    /** Bytes of the arrays held now (24 per ring slot, 8 per index slot), for the memory figures. */
    public long retainedBytes() {
        return (long) ring.length * 8 + (long) index.length * 8;
    }

    private long clamp(long nowMs) {
        return Math.max(nowMs, lastTime);
    }

    /** The index word's fingerprint part for a mixed hash (what {@code word >>> SLOT_BITS} must equal). */
    private static long tag(long mixed) {
        return mixed & (-1L >>> SLOT_BITS);
    }

    /**
     * The offset of the live entry with this hash whose stored record the verifier confirms carries the same key,
     * oldest first; or -1 when there is none. No allocation.
     */
    public long findOriginal(long hash, long nowMs, Verifier verifier) {
        long now = clamp(nowMs);
        long mixed = mix(hash);
        long tag = tag(mixed);
        long[] idx = index;
        int mask = indexMask;
        for (int i = (int) mixed & mask, probes = 0; ; i = (i + 1) & mask) {
            long word = idx[i];
            if (word == 0) {
                return -1L;
            }
            checkProbes(++probes, mask);
            if (word >>> SLOT_BITS == tag) {
                int e = ((int) (word & SLOT_MASK) - 1) * STRIDE;
                if (ring[e] == hash && now - ring[e + 2] < windowMs) {
                    long offset = ring[e + 1];
                    if (verifier.sameKey(offset)) {
                        return offset;
                    }
                }
            }
        }
    }

    /**
     * Touches the index words where the lookups (and inserts) of these hashes start, so that their cache misses
     * overlap: the loads of this loop do not depend on each other, so the CPU keeps many of them in flight, where
     * the probes of {@link #findOriginal} one key after another would wait for each miss in turn. A hint only: no
     * state changes, no allocation. {@code hashes[0, n)}.
     */
    public void prefetch(long[] hashes, int n) {
        long[] idx = index;
        int mask = indexMask;
        long acc = 0;
        for (int k = 0; k < n; k++) {
            acc += idx[(int) mix(hashes[k]) & mask];
        }
        touched = acc;
    }

    /**
     * Touches the index words of the oldest entries that entering {@code adding} keys at {@code nowMs} will remove
     * (evicted at the bound or expired), for the same reason as {@link #prefetch}. A hint only.
     */
    public void prefetchOldest(int adding, long nowMs) {
        long now = clamp(nowMs);
        int evicting = size + adding - maxKeys;
        int n = Math.min(size, adding);
        long[] idx = index;
        int mask = indexMask;
        long acc = 0;
        for (int k = 0; k < n; k++) {
            int e = ((head + k) & ringMask) * STRIDE;
            if (k >= evicting && now - ring[e + 2] < windowMs) {
                break;
            }
            acc += idx[(int) mix(ring[e]) & mask];
        }
        touched = acc;
    }

    /** Whether any live entry has this hash (no verification: for tests and the benchmark's raw probe). */
    public boolean containsHash(long hash, long nowMs) {
        long now = clamp(nowMs);
        long mixed = mix(hash);
        long tag = tag(mixed);
        for (int i = (int) mixed & indexMask, probes = 0; ; i = (i + 1) & indexMask) {
            long word = index[i];
            if (word == 0) {
                return false;
            }
            checkProbes(++probes, indexMask);
            if (word >>> SLOT_BITS == tag) {
                int e = ((int) (word & SLOT_MASK) - 1) * STRIDE;
                if (ring[e] == hash && now - ring[e + 2] < windowMs) {
                    return true;
                }
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
        } else if (size == ringMask + 1) {
            grow();
        }
        int slot = (head + size) & ringMask;
        int e = slot * STRIDE;
        ring[e] = hash;
        ring[e + 1] = offset;
        ring[e + 2] = now;
        size++;
        insert(mix(hash), slot);
    }

    private void insert(long mixed, int slot) {
        int i = (int) mixed & indexMask;
        for (int probes = 1; index[i] != 0; probes++) {
            checkProbes(probes, indexMask);
            i = (i + 1) & indexMask;
        }
        index[i] = (mixed << SLOT_BITS) | (slot + 1L);
    }

    /** Drops the entries older than the window; returns how many. */
    public int expire(long nowMs) {
        long now = clamp(nowMs);
        int removed = 0;
        while (size > 0 && now - ring[head * STRIDE + 2] >= windowMs) {
            removeOldest();
            removed++;
        }
        expirations += removed;
        return removed;
    }

    /** Drops every entry (a changed dedup header: keys of the old header say nothing about the new one). */
    public void clear() {
        java.util.Arrays.fill(index, 0L);
        head = 0;
        size = 0;
    }

    private void removeOldest() {
        int slot = head;
        long mixed = mix(ring[slot * STRIDE]);
        long word = (mixed << SLOT_BITS) | (slot + 1L);
        int i = (int) mixed & indexMask;
        for (int probes = 1; index[i] != word; probes++) {
            checkProbes(probes, indexMask); // the oldest entry is always indexed: a miss means a broken index
            i = (i + 1) & indexMask;
        }
        deleteAt(i);
        head = (head + 1) & ringMask;
        size--;
    }

    /** Backward-shift deletion at index position {@code hole}: later entries of the probe run move up. */
    private void deleteAt(int hole) {
        long[] idx = index;
        int mask = indexMask;
        int i = hole;
        for (int probes = 1; ; probes++) {
            checkProbes(probes, mask);
            i = (i + 1) & mask;
            long word = idx[i];
            if (word == 0) {
                break;
            }
            int home = (int) (word >>> SLOT_BITS) & mask;
            // The entry at i may move to the hole if its home is not cyclically within (hole, i].
            boolean between = hole <= i ? home > hole && home <= i : home > hole || home <= i;
            if (!between) {
                idx[hole] = word;
                hole = i;
            }
        }
        idx[hole] = 0L;
    }

    /**
     * Doubles the ring and the index. The ring is copied in order (oldest entry to slot 0); the index is rebuilt by
     * walking the old one in order, not the ring: an entry's new home is its old home or that + the old size, so the
     * writes run through two regions of the new index front to back instead of landing at random (linear probing
     * finds every entry whatever the insertion order), and each word's new ring slot is computed from the old one.
     */
    private void grow() {
        long[] oldRing = ring;
        long[] oldIndex = index;
        int oldRingMask = ringMask;
        int n = size;
        int oldHead = head;
        allocate(Math.min((oldRingMask + 1) * 2, ceilPowerOfTwo(maxKeys)));
        int first = oldHead * STRIDE;
        int tail = Math.min(n, oldRingMask + 1 - oldHead);
        System.arraycopy(oldRing, first, ring, 0, tail * STRIDE);
        System.arraycopy(oldRing, 0, ring, tail * STRIDE, (n - tail) * STRIDE);
        long[] idx = index;
        int mask = indexMask;
        for (long word : oldIndex) {
            if (word == 0) {
                continue;
            }
            int slot = ((int) (word & SLOT_MASK) - 1 - oldHead) & oldRingMask;
            int i = (int) (word >>> SLOT_BITS) & mask;
            for (int probes = 1; idx[i] != 0; probes++) {
                checkProbes(probes, mask);
                i = (i + 1) & mask;
            }
            idx[i] = (word & ~SLOT_MASK) | (slot + 1L);
        }
        size = n;
    }

    /**
     * Every probe loop is bounded: the index is at most half full, so a probe run ends at an empty word long before it
     * has visited every position; one that would go round the whole index means the index is broken (a bug, never
     * input), and fails loudly instead of spinning.
     */
    private static void checkProbes(int probes, int mask) {
        if (probes > mask) {
            throw new IllegalStateException("key window index inconsistent: a probe run visited all " + (mask + 1)
                + " positions");
        }
    }

    /** The index position and fingerprint come from the hash mixed once more (its low bits may be weak). */
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
        for (int k = 0; k < size; k++) {
            int e = ((head + k) & ringMask) * STRIDE;
            visitor.entry(ring[e], ring[e + 1], ring[e + 2]);
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
