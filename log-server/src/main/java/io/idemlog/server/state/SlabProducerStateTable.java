package io.idemlog.server.state;

import io.idemlog.common.record.Sequences;

import java.util.Arrays;

/**
 * The production {@link ProducerStateTable}: no object per producer. A primitive open-addressing hash
 * ({@link ProducerIndex}: producerId -> meta word and slot, the meta word in the same cache line as the key) points
 * into entries held in pages: per slot {@value #STRIDE} longs (the 5 cached batches as a ring, the LRU links, the
 * last write time). The eviction order is two LRU lists (least recently WRITTEN first), probation and protected
 * ({@link EvictionPolicy}), each a pair of int links inside the entry; which list an entry is on follows from its
 * cached batch count in the meta word (protected from {@link #PROTECTED_BATCHES} on), so it needs no bit of its
 * own and a snapshot replay rebuilds it. Every operation is O(1) and allocation-free once the pages exist.
 *
 * <p>Meta word (one {@code long} per slot, in its own dense array):
 * <pre>
 *  bits 0-15 epoch, 16-18 cached batch count (0..5), 24-26 ring index of the newest batch,
 *  bit 31 "fresh next", bits 32-62 the next expected sequence (see below)
 * </pre>
 * Entry layout ({@value #STRIDE} longs = 104 bytes):
 * <pre>
 *  long  field
 *   0-4  sequences     per ring position: firstSequence (high 32 bits) | lastOffsetDelta (low 32 bits)
 *   5-9  firstOffsets  per ring position: offset of the batch's first record
 *    10  lastWriteMs   server time of the producer's last write
 *    11  links         older slot (high 32 bits) | newer slot (low 32 bits); -1 = none. Free slots chain
 *                      through the low half.
 *    12  producerId    needed to unhash an entry that is evicted or expired
 * </pre>
 * The duplicate check reads longs 0-4 (40 contiguous bytes): comparing the packed (firstSequence, lastOffsetDelta)
 * long is one comparison per cached batch.
 *
 * <p>Why the meta word holds the next expected sequence and a "fresh next" flag: the common batch is the next one in
 * sequence. The flag, computed when a batch is recorded, says that no cached batch starts at the next expected
 * sequence; then a batch starting there cannot be a duplicate (step 4 of the check finds nothing) and is accepted
 * (step 6) from the meta word alone, without reading the cached batches. This is the order of IDEMPOTENCE.md, not a
 * shortcut around it, and it holds without assuming that cached sequences are contiguous (they need not be after
 * recovery replays a producer whose entry had expired live). Why the meta word sits beside the key: the common
 * outcomes (in sequence, fenced, new epoch) then read one bucket (one cache line, one memory access even when the
 * table is far larger than the CPU caches) and never the 104-byte entry.
 *
 * <p>Pages of {@value #PAGE_ENTRIES} slots are allocated as the table grows and kept (slots are recycled through a
 * free list), so growth never copies entries and a small partition costs one page. With the hash at its load factor
 * this comes to about 146 bytes per producer; {@link #heapBytes()} reports it.
 *
 * <p>Not thread-safe: one writer.
 */
public final class SlabProducerStateTable implements ProducerStateTable {
    private static final int SEQUENCES = 0;
    private static final int FIRST_OFFSETS = SEQUENCES + RETAINED_BATCHES;
    private static final int LAST_WRITE = FIRST_OFFSETS + RETAINED_BATCHES;
    private static final int LINKS = LAST_WRITE + 1;
    private static final int PRODUCER_ID = LINKS + 1;
    /** Longs per entry. */
    static final int STRIDE = PRODUCER_ID + 1;

    private static final int COUNT_SHIFT = 16;
    private static final int NEWEST_SHIFT = 24;
    private static final long FRESH_NEXT = 1L << 31;
    private static final int NEXT_SHIFT = 32;
    private static final long EPOCH_MASK = 0xFFFFL;
    /** Count (0..5) and ring index (0..4) are 3-bit fields. */
    private static final long SMALL_MASK = 0x7L;
    private static final long LOW_MASK = 0xFFFF_FFFFL;

    private static final int PAGE_SHIFT = 8;
    /** Slots per page: 256 x (104 + 8) bytes = 28 KiB, the most a table wastes on a partially used page. */
    static final int PAGE_ENTRIES = 1 << PAGE_SHIFT;
    private static final int PAGE_MASK = PAGE_ENTRIES - 1;

    private static final int NIL = -1;
    private static final int PROBATION = 0;
    private static final int PROTECTED = 1;
    private static final float LOAD_FACTOR = 0.6f;
    private static final int ARRAY_HEADER_BYTES = 16;
    private static final int OBJECT_HEADER_BYTES = 16;

    private final int maxProducers;
    private final long expirationMs;
    private final boolean segmented;
    private final int probationReserve;
    private final ProducerIndex index;
    private final long[][] pages;
    private int allocatedPages;

    /** Slots never used so far start here; below it, a slot is either live or on the free list. */
    private int nextUnusedSlot;
    private int freeSlot = NIL;
    /** Per list (PROBATION, PROTECTED): its least and most recently written slot. */
    private final int[] oldest = {NIL, NIL};
    private final int[] newest = {NIL, NIL};
    private int size;
    private int probationSize;
    private long evictions;

    private long duplicateFirstOffset = -1L;
    private long duplicateLastOffset = -1L;

    /** A segmented-LRU table ({@link EvictionPolicy#SEGMENTED_LRU}). */
    public SlabProducerStateTable(int maxProducers, long expirationMs) {
        this(maxProducers, expirationMs, EvictionPolicy.SEGMENTED_LRU);
    }

    /**
     * @param maxProducers at most this many entries; one is evicted per {@code policy} beyond it
     * @param expirationMs producers idle this long (server time) are removed by {@link #removeExpired}
     */
    public SlabProducerStateTable(int maxProducers, long expirationMs, EvictionPolicy policy) {
        if (maxProducers < 1) {
            throw new IllegalArgumentException("maxProducers must be >= 1: " + maxProducers);
        }
        this.maxProducers = maxProducers;
        this.expirationMs = expirationMs;
        this.segmented = policy == EvictionPolicy.SEGMENTED_LRU;
        this.probationReserve = ProducerStateTable.probationReserve(maxProducers);
        this.index = new ProducerIndex(64, LOAD_FACTOR);
        int pageCount = (int) (((long) maxProducers + PAGE_ENTRIES - 1) >>> PAGE_SHIFT);
        this.pages = new long[pageCount][];
    }

    @Override
    public SequenceOutcome check(long producerId, short epoch, int firstSequence, int lastOffsetDelta) {
        if (producerId == -1L) {
            return SequenceOutcome.NOT_IDEMPOTENT;
        }
        if (producerId < -1L || firstSequence < 0) {
            return SequenceOutcome.INVALID_RECORD;
        }
        int bucket = index.find(producerId);
        if (bucket < 0) {
            return SequenceOutcome.ACCEPT;
        }
        long meta = index.meta(bucket);
        short storedEpoch = (short) meta;
        if (epoch < storedEpoch) {
            return SequenceOutcome.FENCED;
        }
        if (epoch > storedEpoch) {
            return firstSequence == 0 ? SequenceOutcome.ACCEPT : SequenceOutcome.OUT_OF_ORDER;
        }
        if ((meta & FRESH_NEXT) != 0 && firstSequence == (int) (meta >>> NEXT_SHIFT)) {
            return SequenceOutcome.ACCEPT;
        }
        int slot = index.slot(bucket);
        long[] page = pages[slot >>> PAGE_SHIFT];
        int base = (slot & PAGE_MASK) * STRIDE;
        int count = (int) ((meta >>> COUNT_SHIFT) & SMALL_MASK);
        int position = (int) ((meta >>> NEWEST_SHIFT) & SMALL_MASK);
        long wanted = pack(firstSequence, lastOffsetDelta);
        for (int i = 0; i < count; i++) {
            // newest first: it is the original when several match (see ProducerStateTable#check)
            if (page[base + SEQUENCES + position] == wanted) {
                duplicateFirstOffset = page[base + FIRST_OFFSETS + position];
                duplicateLastOffset = duplicateFirstOffset + lastOffsetDelta;
                return SequenceOutcome.DUPLICATE;
            }
            position = position == 0 ? RETAINED_BATCHES - 1 : position - 1;
        }
        if (count == 0) {
            return SequenceOutcome.ACCEPT;
        }
        return firstSequence == (int) (meta >>> NEXT_SHIFT) ? SequenceOutcome.ACCEPT : SequenceOutcome.OUT_OF_ORDER;
    }

    @Override
    public long precedesRetained(long producerId, short epoch, int firstSequence, int lastOffsetDelta) {
        int bucket = index.find(producerId);
        if (bucket < 0) {
            return -1L;
        }
        long meta = index.meta(bucket);
        int count = (int) ((meta >>> COUNT_SHIFT) & SMALL_MASK);
        if ((short) meta != epoch || count == 0) {
            return -1L;
        }
        int slot = index.slot(bucket);
        long[] page = pages[slot >>> PAGE_SHIFT];
        int base = (slot & PAGE_MASK) * STRIDE;
        int newest = (int) ((meta >>> NEWEST_SHIFT) & SMALL_MASK);
        int oldest = Math.floorMod(newest - (count - 1), RETAINED_BATCHES);
        int oldestFirst = (int) (page[base + SEQUENCES + oldest] >>> 32);
        if (!ProducerStateTable.before(Sequences.lastSequence(firstSequence, lastOffsetDelta), oldestFirst)) {
            return -1L;
        }
        return page[base + FIRST_OFFSETS + oldest];
    }

    @Override
    public String describe(long producerId) {
        int bucket = index.find(producerId);
        if (bucket < 0) {
            return "no state for producer " + producerId;
        }
        long meta = index.meta(bucket);
        int slot = index.slot(bucket);
        long[] page = pages[slot >>> PAGE_SHIFT];
        int base = (slot & PAGE_MASK) * STRIDE;
        int count = (int) ((meta >>> COUNT_SHIFT) & SMALL_MASK);
        int position = (int) ((meta >>> NEWEST_SHIFT) & SMALL_MASK);
        StringBuilder b = new StringBuilder("stored epoch ").append((short) meta).append(", next sequence ")
            .append((int) (meta >>> NEXT_SHIFT)).append(", last batches (newest first, sequence@offset)");
        for (int i = 0; i < count; i++) {
            long packed = page[base + SEQUENCES + position];
            b.append(' ').append((int) (packed >>> 32)).append('+').append((int) packed).append('@')
                .append(page[base + FIRST_OFFSETS + position]);
            position = position == 0 ? RETAINED_BATCHES - 1 : position - 1;
        }
        return b.toString();
    }

    @Override
    public long duplicateFirstOffset() {
        return duplicateFirstOffset;
    }

    @Override
    public long duplicateLastOffset() {
        return duplicateLastOffset;
    }

    @Override
    public void update(long producerId, short epoch, int firstSequence, int lastOffsetDelta, long firstOffset,
                       long nowMs) {
        if (producerId < 0) {
            return;
        }
        int bucket = index.find(producerId);
        int slot;
        long meta;
        int list;
        if (bucket < 0) {
            if (size == maxProducers) {
                evictOne();
            }
            slot = allocateSlot();
            meta = emptyMeta(epoch);
            // after the eviction: a removal moves buckets
            bucket = index.insert(producerId, meta, slot);
            long[] page = pages[slot >>> PAGE_SHIFT];
            page[(slot & PAGE_MASK) * STRIDE + PRODUCER_ID] = producerId;
            list = PROBATION;
            linkAsNewest(slot, list);
            size++;
            probationSize++;
        } else {
            slot = index.slot(bucket);
            meta = index.meta(bucket);
            list = listOf(meta);
            if ((short) meta != epoch) {
                meta = emptyMeta(epoch);
            }
        }
        long[] page = pages[slot >>> PAGE_SHIFT];
        int base = (slot & PAGE_MASK) * STRIDE;
        int count = (int) ((meta >>> COUNT_SHIFT) & SMALL_MASK);
        int newCount = Math.min(count + 1, RETAINED_BATCHES);
        int newList = listOf(newCount);
        if (newList != list || slot != newest[list]) {
            unlink(slot, list);
            linkAsNewest(slot, newList);
            probationSize += (newList == PROBATION ? 1 : 0) - (list == PROBATION ? 1 : 0);
        }
        int position = ((int) ((meta >>> NEWEST_SHIFT) & SMALL_MASK) + 1) % RETAINED_BATCHES;
        page[base + SEQUENCES + position] = pack(firstSequence, lastOffsetDelta);
        page[base + FIRST_OFFSETS + position] = firstOffset;
        page[base + LAST_WRITE] = nowMs;
        int next = Sequences.next(Sequences.lastSequence(firstSequence, lastOffsetDelta));
        boolean fresh = true;
        for (int i = 0; i < newCount; i++) {
            if ((int) (page[base + SEQUENCES + i] >>> 32) == next) {
                fresh = false;
            }
        }
        index.meta(bucket, meta(epoch, newCount, position) | (fresh ? FRESH_NEXT : 0L) | ((long) next << NEXT_SHIFT));
    }

    @Override
    public int removeExpired(long nowMs) {
        int removed = 0;
        for (int list = PROBATION; list <= PROTECTED; list++) {
            while (oldest[list] != NIL && nowMs - word(oldest[list], LAST_WRITE) >= expirationMs) {
                remove(oldest[list], list);
                removed++;
            }
        }
        return removed;
    }

    /** Frees one slot of a full table: the policy's victim (see {@link EvictionPolicy#SEGMENTED_LRU}). */
    private void evictOne() {
        int list = probationSize >= probationReserve || oldest[PROTECTED] == NIL ? PROBATION : PROTECTED;
        remove(oldest[list], list);
        evictions++;
    }

    /** The list of an entry with this meta word. */
    private int listOf(long meta) {
        return listOf((int) ((meta >>> COUNT_SHIFT) & SMALL_MASK));
    }

    /** The list of an entry holding {@code count} batches of its epoch: protected from PROTECTED_BATCHES on. */
    private int listOf(int count) {
        return segmented && count >= PROTECTED_BATCHES ? PROTECTED : PROBATION;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public long evictions() {
        return evictions;
    }

    @Override
    public void forEachOldestFirst(ProducerEntryVisitor visitor) {
        forEachOldestFirst(oldest[PROBATION], visitor);
        forEachOldestFirst(oldest[PROTECTED], visitor);
    }

    private void forEachOldestFirst(int first, ProducerEntryVisitor visitor) {
        for (int slot = first; slot != NIL; slot = (int) word(slot, LINKS)) {
            long[] page = pages[slot >>> PAGE_SHIFT];
            int base = (slot & PAGE_MASK) * STRIDE;
            long meta = index.meta(index.find(page[base + PRODUCER_ID]));
            int count = (int) ((meta >>> COUNT_SHIFT) & SMALL_MASK);
            int newestIndex = (int) ((meta >>> NEWEST_SHIFT) & SMALL_MASK);
            visitor.producer(page[base + PRODUCER_ID], (short) meta, page[base + LAST_WRITE], count);
            for (int i = count - 1; i >= 0; i--) {
                int position = (newestIndex - i + RETAINED_BATCHES) % RETAINED_BATCHES;
                long sequences = page[base + SEQUENCES + position];
                visitor.batch((int) (sequences >>> 32), (int) sequences, page[base + FIRST_OFFSETS + position]);
            }
        }
    }

    @Override
    public void clear() {
        index.clear();
        nextUnusedSlot = 0;
        freeSlot = NIL;
        Arrays.fill(oldest, NIL);
        Arrays.fill(newest, NIL);
        size = 0;
        probationSize = 0;
    }

    /**
     * Heap held by this table, estimated from its arrays (pages, page table, hash) with 16-byte object and array
     * headers; the JMH benchmark prints it per entry.
     */
    public long heapBytes() {
        long pageBytes = ARRAY_HEADER_BYTES + (long) PAGE_ENTRIES * STRIDE * Long.BYTES;
        long pageTable = ARRAY_HEADER_BYTES + (long) pages.length * Integer.BYTES;
        return OBJECT_HEADER_BYTES + pageTable + allocatedPages * pageBytes + OBJECT_HEADER_BYTES + index.heapBytes();
    }

    /** {@link #heapBytes()} divided by the number of producers held (the whole table when empty). */
    public double heapBytesPerEntry() {
        return (double) heapBytes() / Math.max(1, size);
    }

    private int allocateSlot() {
        if (freeSlot != NIL) {
            int slot = freeSlot;
            freeSlot = (int) word(slot, LINKS);
            return slot;
        }
        int slot = nextUnusedSlot++;
        int pageIndex = slot >>> PAGE_SHIFT;
        if (pages[pageIndex] == null) {
            pages[pageIndex] = new long[PAGE_ENTRIES * STRIDE];
            allocatedPages++;
        }
        return slot;
    }

    private void remove(int slot, int list) {
        index.remove(word(slot, PRODUCER_ID));
        unlink(slot, list);
        setWord(slot, LINKS, links(NIL, freeSlot));
        freeSlot = slot;
        size--;
        if (list == PROBATION) {
            probationSize--;
        }
    }

    private void linkAsNewest(int slot, int list) {
        int last = newest[list];
        setWord(slot, LINKS, links(last, NIL));
        if (last != NIL) {
            long l = word(last, LINKS);
            setWord(last, LINKS, links((int) (l >>> 32), slot));
        } else {
            oldest[list] = slot;
        }
        newest[list] = slot;
    }

    private void unlink(int slot, int list) {
        long l = word(slot, LINKS);
        int older = (int) (l >>> 32);
        int newer = (int) l;
        if (older != NIL) {
            long ol = word(older, LINKS);
            setWord(older, LINKS, links((int) (ol >>> 32), newer));
        } else {
            oldest[list] = newer;
        }
        if (newer != NIL) {
            long nl = word(newer, LINKS);
            setWord(newer, LINKS, links(older, (int) nl));
        } else {
            newest[list] = older;
        }
    }

    private long word(int slot, int field) {
        return pages[slot >>> PAGE_SHIFT][(slot & PAGE_MASK) * STRIDE + field];
    }

    private void setWord(int slot, int field, long value) {
        pages[slot >>> PAGE_SHIFT][(slot & PAGE_MASK) * STRIDE + field] = value;
    }

    private static long links(int older, int newer) {
        return ((long) older << 32) | (newer & LOW_MASK);
    }

    private static long pack(int firstSequence, int lastOffsetDelta) {
        return ((long) firstSequence << 32) | (lastOffsetDelta & LOW_MASK);
    }

    /** An entry with no cached batch whose next batch goes to ring position 0. */
    private static long emptyMeta(short epoch) {
        return meta(epoch, 0, RETAINED_BATCHES - 1);
    }

    private static long meta(short epoch, int count, int newestIndex) {
        return (epoch & EPOCH_MASK) | ((long) count << COUNT_SHIFT) | ((long) newestIndex << NEWEST_SHIFT);
    }
}
