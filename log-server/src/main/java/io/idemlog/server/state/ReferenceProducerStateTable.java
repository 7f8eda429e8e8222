package io.idemlog.server.state;

import io.idemlog.common.record.Sequences;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The obviously-correct {@link ProducerStateTable}: a LinkedHashMap of small objects, written to be read against
 * IDEMPOTENCE.md line by line rather than to be fast. The contract tests and a randomized comparison hold
 * {@link SlabProducerStateTable} to exactly its answers. Not for production (an object per producer and per batch).
 */
public final class ReferenceProducerStateTable implements ProducerStateTable {
    private record Batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
        int lastSequence() {
            return Sequences.lastSequence(firstSequence, lastOffsetDelta);
        }
    }

    private static final class Entry {
        short epoch;
        long lastWriteMs;
        final ArrayDeque<Batch> batches = new ArrayDeque<>();
    }

    private final int maxProducers;
    private final long expirationMs;
    private final EvictionPolicy policy;
    /** Insertion order is write order: an update removes and re-inserts the entry. Producers on probation. */
    private final LinkedHashMap<Long, Entry> probation = new LinkedHashMap<>();
    /** Protected producers (segmented LRU only), in write order too. */
    private final LinkedHashMap<Long, Entry> protectedEntries = new LinkedHashMap<>();
    private long evictions;
    private long duplicateFirstOffset = -1L;
    private long duplicateLastOffset = -1L;

    public ReferenceProducerStateTable(int maxProducers, long expirationMs) {
        this(maxProducers, expirationMs, EvictionPolicy.SEGMENTED_LRU);
    }

    public ReferenceProducerStateTable(int maxProducers, long expirationMs, EvictionPolicy policy) {
        if (maxProducers < 1) {
            throw new IllegalArgumentException("maxProducers must be >= 1: " + maxProducers);
        }
        this.maxProducers = maxProducers;
        this.expirationMs = expirationMs;
        this.policy = policy;
    }

    @Override
    public long precedesRetained(long producerId, short epoch, int firstSequence, int lastOffsetDelta) {
        Entry entry = find(producerId);
        if (entry == null || entry.epoch != epoch || entry.batches.isEmpty()) {
            return -1L;
        }
        Batch oldest = entry.batches.peekFirst();
        return ProducerStateTable.before(Sequences.lastSequence(firstSequence, lastOffsetDelta), oldest.firstSequence())
            ? oldest.firstOffset() : -1L;
    }

    private Entry find(long producerId) {
        Entry e = probation.get(producerId);
        return e != null ? e : protectedEntries.get(producerId);
    }

    /** Where an entry with this many batches of its epoch belongs. */
    private LinkedHashMap<Long, Entry> segmentFor(Entry entry) {
        boolean isProtected = policy == EvictionPolicy.SEGMENTED_LRU && entry.batches.size() >= PROTECTED_BATCHES;
        return isProtected ? protectedEntries : probation;
    }

    @Override
    public SequenceOutcome check(long producerId, short epoch, int firstSequence, int lastOffsetDelta) {
        // 1. not idempotent
        if (producerId == -1L) {
            return SequenceOutcome.NOT_IDEMPOTENT;
        }
        // 2. a producer id must be -1 or >= 0, and an idempotent batch must carry a sequence
        if (producerId < -1L || firstSequence < 0) {
            return SequenceOutcome.INVALID_RECORD;
        }
        Entry entry = find(producerId);
        // 7. unknown producer: any sequence
        if (entry == null) {
            return SequenceOutcome.ACCEPT;
        }
        // 3. fenced
        if (epoch < entry.epoch) {
            return SequenceOutcome.FENCED;
        }
        int lastSequence = Sequences.lastSequence(firstSequence, lastOffsetDelta);
        // 4. duplicate of one of the cached batches (same epoch only); the newest when several match
        if (epoch == entry.epoch) {
            for (Iterator<Batch> it = entry.batches.descendingIterator(); it.hasNext(); ) {
                Batch b = it.next();
                if (b.firstSequence == firstSequence && b.lastSequence() == lastSequence) {
                    duplicateFirstOffset = b.firstOffset;
                    duplicateLastOffset = b.firstOffset + b.lastOffsetDelta;
                    return SequenceOutcome.DUPLICATE;
                }
            }
        }
        // 5. a new epoch starts at 0
        if (epoch > entry.epoch) {
            return firstSequence == 0 ? SequenceOutcome.ACCEPT : SequenceOutcome.OUT_OF_ORDER;
        }
        // 6. same epoch: the next sequence, wrapping after Integer.MAX_VALUE
        Batch last = entry.batches.peekLast();
        if (last == null || firstSequence == Sequences.next(last.lastSequence())) {
            return SequenceOutcome.ACCEPT;
        }
        return SequenceOutcome.OUT_OF_ORDER;
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
        Entry entry = probation.remove(producerId);
        if (entry == null) {
            entry = protectedEntries.remove(producerId);
        }
        if (entry == null) {
            if (size() == maxProducers) {
                // segmented LRU: the oldest on probation, unless too few are on probation (then the oldest
                // protected); plain LRU: everything is on probation
                LinkedHashMap<Long, Entry> victims = probation.size() >= ProducerStateTable.probationReserve(
                    maxProducers) || protectedEntries.isEmpty() ? probation : protectedEntries;
                Iterator<Long> oldest = victims.keySet().iterator();
                oldest.next();
                oldest.remove();
                evictions++;
            }
            entry = new Entry();
            entry.epoch = epoch;
        } else if (entry.epoch != epoch) {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.batches.addLast(new Batch(firstSequence, lastOffsetDelta, firstOffset));
        if (entry.batches.size() > RETAINED_BATCHES) {
            entry.batches.removeFirst();
        }
        entry.lastWriteMs = nowMs;
        segmentFor(entry).put(producerId, entry);
    }

    @Override
    public int removeExpired(long nowMs) {
        return removeExpired(probation, nowMs) + removeExpired(protectedEntries, nowMs);
    }

    private int removeExpired(LinkedHashMap<Long, Entry> segment, long nowMs) {
        int removed = 0;
        Iterator<Entry> it = segment.values().iterator();
        while (it.hasNext()) {
            if (nowMs - it.next().lastWriteMs < expirationMs) {
                break;
            }
            it.remove();
            removed++;
        }
        return removed;
    }

    @Override
    public int size() {
        return probation.size() + protectedEntries.size();
    }

    @Override
    public long evictions() {
        return evictions;
    }

    @Override
    public void forEachOldestFirst(ProducerEntryVisitor visitor) {
        forEachOldestFirst(probation, visitor);
        forEachOldestFirst(protectedEntries, visitor);
    }

    private static void forEachOldestFirst(LinkedHashMap<Long, Entry> segment, ProducerEntryVisitor visitor) {
        for (Map.Entry<Long, Entry> e : segment.entrySet()) {
            Entry entry = e.getValue();
            visitor.producer(e.getKey(), entry.epoch, entry.lastWriteMs, entry.batches.size());
            for (Batch b : entry.batches) {
                visitor.batch(b.firstSequence, b.lastOffsetDelta, b.firstOffset);
            }
        }
    }

    @Override
    public void clear() {
        probation.clear();
        protectedEntries.clear();
    }
}
