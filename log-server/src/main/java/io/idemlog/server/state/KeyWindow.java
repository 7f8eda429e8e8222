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
 * and eviction "drop the oldest" and keeps them sequential in memory. Every entry has a sequence number (its
 * insertion count, modulo 2^{@value #SEQ_BITS}); its ring slot is the sequence number's low bits;</li>
 * <li>an open-addressing index over it (linear probing, power-of-two size, twice the ring's), one {@code long} per
 * slot: the entry's sequence number in the low {@value #SEQ_BITS} bits, the low {@value #TAG_BITS} bits of the
 * key's mixed hash above them and an occupied bit on top (0 = empty). The index position comes from the same mixed
 * hash, so a probe decides "not this key" from the index word alone for all but ~2^-12 of the other keys it passes
 * (the bits above the position act as a fingerprint), and backward-shift deletion finds every word's home position
 * without reading the ring.</li>
 * </ul>
 * Dropping the oldest entry (eviction at the bound, expiry) only advances the ring's head: it does not touch the
 * index. An index word whose sequence number is no longer in [head, head + size) is <em>stale</em>: lookups pass
 * over it (the number alone says so, no ring read), an insert that passes one reuses its slot, and a sweep that
 * visits {@value #SWEEP} index words in order at every {@link #add} removes the stale ones it meets (backward-shift
 * deletion, so the index never holds tombstones). So a new key at the bound costs one random memory access (the
 * index line where its lookup and insert happen; {@link #prefetch} overlaps those of a batch) plus a sequential walk
 * of the ring and of the index, instead of a second random access to find and delete the evicted key's word.
 * Bounds: at the bound every add makes one word stale, and the sweep visits the whole index (twice the ring's
 * capacity C) within about (2 C + the stale words it deletes) / {@value #SWEEP} adds, so a stale word lives at most
 * about 0.3 C adds: the index holds at most C live words plus ~0.3 C stale ones (at most ~2/3 full, on average
 * ~57 %, against 50 % with eager deletion), and a stale sequence number is gone long before the
 * 2^{@value #SEQ_BITS} counter could make it look live again (that needs 2^30 - C adds). Both arrays grow by doubling up to {@code maxKeys} (a
 * rare allocation, amortised over the keys that filled them); nothing is allocated per key.
 *
 * <p>Collisions: a hash names candidates, never a verdict. Several entries may share a hash (two distinct keys that
 * collide, or one key stored again after its first entry expired or its record left the log); {@link #findOriginal}
 * offers each live candidate's offset to a {@link Verifier}, which compares the actual key bytes with the record
 * stored at that offset, so a collision can never make a distinct record look like a repeat.
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
    /** Low bits of an index word: the entry's sequence number. The ring holds at most 2^29 entries. */
    static final int SEQ_BITS = 30;
    private static final int SEQ_MASK = (1 << SEQ_BITS) - 1;
    /** Bits of the mixed hash kept in an index word, above the sequence number (the home position is their low bits). */
    static final int TAG_BITS = 33;
    private static final long TAG_MASK = (1L << TAG_BITS) - 1;
    private static final long OCCUPIED = 1L << 63;
    /** Index words the sweep for stale words visits per {@link #add}: one cache line. */
    static final int SWEEP = 8;
    /** Ring words per entry: hash, offset, time. */
    private static final int STRIDE = 3;

    private final int maxKeys;
    private long windowMs;

    // The ring: the entry with sequence number q is at physical slot q & ringMask, words
    // [slot * STRIDE, slot * STRIDE + STRIDE) of ring. The oldest entry's number is head; size entries follow it.
    private long[] ring;
    private int ringMask;
    private int head;
    private int size;

    /** Index: OCCUPIED | (mixed hash tag << SEQ_BITS) | sequence number, or 0. Twice the ring's length. */
    private long[] index;
    private int indexMask;
    /** The next index position the sweep visits. */
    private int sweep;

    private long lastTime = Long.MIN_VALUE;
    /** Where {@link #prefetch} leaves what it loaded, so that the loads are not optimised away. */
    private long touched;
    private long evictions;
    private long expirations;

    public KeyWindow(long windowMs, int maxKeys) {
        this(windowMs, maxKeys, 0);
    }

    /** A window whose first entry gets sequence number {@code firstSeq} (tests: the 2^30 wrap of the numbers). */
    KeyWindow(long windowMs, int maxKeys, int firstSeq) {
        if (windowMs <= 0) {
            throw new IllegalArgumentException("windowMs must be > 0: " + windowMs);
        }
        if (maxKeys <= 0 || maxKeys > (1 << 29)) {
            throw new IllegalArgumentException("maxKeys must be in [1, 2^29]: " + maxKeys);
        }
        this.windowMs = windowMs;
        this.maxKeys = maxKeys;
        int capacity = Math.min(ceilPowerOfTwo(maxKeys), MIN_CAPACITY);
        ring = new long[capacity * STRIDE];
        ringMask = capacity - 1;
        index = new long[capacity * 2];
        indexMask = index.length - 1;
        head = firstSeq & SEQ_MASK;
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

    /** Index words held now, live and stale (for tests: the sweep's bound). */
    int indexWords() {
        int n = 0;
        for (long word : index) {
            if (word != 0) {
                n++;
            }
        }
        return n;
    }

    private long clamp(long nowMs) {
        return Math.max(nowMs, lastTime);
    }

    /** The index word's fingerprint part for a mixed hash (what {@code (word >>> SEQ_BITS) & TAG_MASK} must equal). */
    private static long tag(long mixed) {
        return mixed & TAG_MASK;
    }

    /** Whether the index word names an entry still in the ring (not dropped since it was indexed). */
    private boolean live(long word) {
        return ((((int) word & SEQ_MASK) - head) & SEQ_MASK) < size;
    }

    /**
     * The offset of a live entry with this hash whose stored record the verifier confirms carries the same key
     * (candidates in probe order); or -1 when there is none. No allocation.
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
            if (((word >>> SEQ_BITS) & TAG_MASK) == tag && live(word)) {
                int e = ((int) word & ringMask) * STRIDE;
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
            if (((word >>> SEQ_BITS) & TAG_MASK) == tag && live(word)) {
                int e = ((int) word & ringMask) * STRIDE;
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
            dropOldest();
            evictions++;
        } else if (size == ringMask + 1) {
            grow();
        }
        // Before the insert: in a tiny index (2-8 words) the sweep covers every word, so the word this add made
        // stale is gone before the new one needs a free position.
        sweep();
        int seq = (head + size) & SEQ_MASK;
        int e = (seq & ringMask) * STRIDE;
        ring[e] = hash;
        ring[e + 1] = offset;
        ring[e + 2] = now;
        size++;
        insert(mix(hash), seq);
    }

    /** Indexes entry {@code seq}: at the first empty or stale word of its probe run. */
    private void insert(long mixed, int seq) {
        long[] idx = index;
        int mask = indexMask;
        int i = (int) mixed & mask;
        for (int probes = 1; idx[i] != 0 && live(idx[i]); probes++) {
            checkProbes(probes, mask);
            i = (i + 1) & mask;
        }
        idx[i] = OCCUPIED | (tag(mixed) << SEQ_BITS) | seq;
    }

    /** Removes the stale words among the next {@value #SWEEP} positions of the index. */
    private void sweep() {
        long[] idx = index;
        int mask = indexMask;
        int i = sweep;
        for (int k = 0; k < SWEEP; k++) {
            long word = idx[i];
            if (word != 0 && !live(word)) {
                deleteAt(i); // a later word of the run may have moved to i: look at i again
            } else {
                i = (i + 1) & mask;
            }
        }
        sweep = i;
    }

    /** Drops the entries older than the window; returns how many. */
    public int expire(long nowMs) {
        long now = clamp(nowMs);
        int removed = 0;
        while (size > 0 && now - ring[(head & ringMask) * STRIDE + 2] >= windowMs) {
            dropOldest();
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

    /** The oldest entry leaves the ring; its index word is now stale (removed by a sweep or reused by an insert). */
    private void dropOldest() {
        head = (head + 1) & SEQ_MASK;
        size--;
    }

    /** Backward-shift deletion at index position {@code hole}: later words of the probe run move up. */
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
            int home = (int) (word >>> SEQ_BITS) & mask;
            // The word at i may move to the hole if its home is not cyclically within (hole, i].
            boolean between = hole <= i ? home > hole && home <= i : home > hole || home <= i;
            if (!between) {
                idx[hole] = word;
                hole = i;
            }
        }
        idx[hole] = 0L;
    }

    /**
     * Doubles the ring and the index. Each entry keeps its sequence number and moves to its slot in the larger ring;
     * the index is rebuilt by walking the old one in order (stale words dropped), not the ring: a word's new home is
     * its old home or that + the old size, so the writes run through two regions of the new index front to back
     * instead of landing at random (linear probing finds every word whatever the insertion order). The words
     * themselves are unchanged.
     */
    private void grow() {
        long[] oldRing = ring;
        long[] oldIndex = index;
        int oldRingMask = ringMask;
        int capacity = Math.min((oldRingMask + 1) * 2, ceilPowerOfTwo(maxKeys));
        long[] grown = new long[capacity * STRIDE];
        int newRingMask = capacity - 1;
        for (int k = 0; k < size; k++) {
            int seq = head + k;
            System.arraycopy(oldRing, (seq & oldRingMask) * STRIDE, grown, (seq & newRingMask) * STRIDE, STRIDE);
        }
        ring = grown;
        ringMask = newRingMask;
        long[] idx = new long[capacity * 2];
        int mask = idx.length - 1;
        for (long word : oldIndex) {
            if (word == 0 || !live(word)) {
                continue;
            }
            int i = (int) (word >>> SEQ_BITS) & mask;
            for (int probes = 1; idx[i] != 0; probes++) {
                checkProbes(probes, mask);
                i = (i + 1) & mask;
            }
            idx[i] = word;
        }
        index = idx;
        indexMask = mask;
        sweep = 0;
    }

    /**
     * Every probe loop is bounded: the index is at most ~2/3 full, so a probe run ends at an empty word long before it
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
