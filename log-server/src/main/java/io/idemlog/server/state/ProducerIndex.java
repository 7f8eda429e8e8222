package io.idemlog.server.state;

import java.util.Arrays;

/**
 * producerId -> (meta word, slot): an open-addressing hash with linear probing whose buckets hold the key and the
 * meta word side by side in one {@code long[]}, so the common checks (in sequence, fenced, new epoch) cost ONE
 * random memory access: the bucket's cache line. With a million producers a second access (a separate meta array,
 * or a separate map from id to slot) costs a full memory latency on its own (~100-250 ns on the machines measured
 * here), more than the whole check should. The slot of the producer's entry (its cached batches) lives in a
 * parallel {@code int[]}, read only when the entry is needed.
 *
 * <p>Deletion shifts later buckets of the probe run back (no tombstones), so lookups never slow down with churn.
 * Bucket indices change on insert (resize) and remove (shift): callers use them only between such calls.
 *
 * <p>Not thread-safe.
 */
final class ProducerIndex {
    /** Producer ids are >= 0; -1 marks an empty bucket. */
    private static final long EMPTY = -1L;

    private final float loadFactor;
    /** [2b] = producerId, [2b + 1] = meta word of bucket b. */
    private long[] keysAndMetas;
    private int[] slots;
    private int mask;
    private int size;
    private int resizeAt;

    ProducerIndex(int initialCapacity, float loadFactor) {
        this.loadFactor = loadFactor;
        allocate(Integer.highestOneBit(Math.max(16, initialCapacity) - 1) << 1);
    }

    private void allocate(int capacity) {
        keysAndMetas = new long[capacity * 2];
        Arrays.fill(keysAndMetas, EMPTY);
        slots = new int[capacity];
        mask = capacity - 1;
        resizeAt = (int) (capacity * loadFactor);
    }

    private static int hash(long key) {
        // fmix64 of MurmurHash3: ids handed out in blocks must not cluster in the table
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) h;
    }

    /** The bucket holding {@code producerId}, or -1. */
    int find(long producerId) {
        long[] km = keysAndMetas;
        int m = mask;
        int b = hash(producerId) & m;
        while (true) {
            long k = km[b << 1];
            if (k == producerId) {
                return b;
            }
            if (k == EMPTY) {
                return -1;
            }
            b = (b + 1) & m;
        }
    }

    long meta(int bucket) {
        return keysAndMetas[(bucket << 1) + 1];
    }

    void meta(int bucket, long meta) {
        keysAndMetas[(bucket << 1) + 1] = meta;
    }

    int slot(int bucket) {
        return slots[bucket];
    }

    /** Adds an absent producer; returns its bucket (valid until the next insert or remove). */
    int insert(long producerId, long meta, int slot) {
        if (producerId < 0) {
            throw new IllegalArgumentException("producer id " + producerId);
        }
        if (size >= resizeAt) {
            grow();
        }
        int b = place(producerId, meta, slot);
        size++;
        return b;
    }

    private int place(long producerId, long meta, int slot) {
        long[] km = keysAndMetas;
        int b = hash(producerId) & mask;
        while (km[b << 1] != EMPTY) {
            b = (b + 1) & mask;
        }
        km[b << 1] = producerId;
        km[(b << 1) + 1] = meta;
        slots[b] = slot;
        return b;
    }

    private void grow() {
        long[] oldKm = keysAndMetas;
        int[] oldSlots = slots;
        allocate(oldSlots.length << 1);
        for (int b = 0; b < oldSlots.length; b++) {
            long k = oldKm[b << 1];
            if (k != EMPTY) {
                place(k, oldKm[(b << 1) + 1], oldSlots[b]);
            }
        }
    }

    /** Removes a producer if present (backward-shift deletion: no tombstones). */
    void remove(long producerId) {
        int hole = find(producerId);
        if (hole < 0) {
            return;
        }
        long[] km = keysAndMetas;
        int m = mask;
        int b = hole;
        while (true) {
            b = (b + 1) & m;
            long k = km[b << 1];
            if (k == EMPTY) {
                break;
            }
            int home = hash(k) & m;
            // Move b into the hole when its home is not in the cyclic range (hole, b]: it can be found from there.
            boolean homeBetween = hole <= b ? (home > hole && home <= b) : (home > hole || home <= b);
            if (!homeBetween) {
                km[hole << 1] = k;
                km[(hole << 1) + 1] = km[(b << 1) + 1];
                slots[hole] = slots[b];
                hole = b;
            }
        }
        km[hole << 1] = EMPTY;
        km[(hole << 1) + 1] = EMPTY;
        size--;
    }

    int size() {
        return size;
    }

    int capacity() {
        return slots.length;
    }

    void clear() {
        Arrays.fill(keysAndMetas, EMPTY);
        size = 0;
    }

    /** Heap held, in bytes, with 16-byte array headers. */
    long heapBytes() {
        return 16 + (long) keysAndMetas.length * Long.BYTES + 16 + (long) slots.length * Integer.BYTES;
    }
}
