package io.idemlog.server.state;

/**
 * The idempotence state of one partition: per producer id, its epoch, its last {@link #RETAINED_BATCHES} batches and
 * the server time of its last write. Implements the check of IDEMPOTENCE.md ("Validating a produced batch") and
 * the bookkeeping after an append.
 *
 * <p>Usage by the partition's single writer: {@link #check} a batch; if the outcome
 * {@link SequenceOutcome#appends() appends}, write it to the log and, only once that succeeded, {@link #update} the
 * state with the offset it got. A failed write therefore never advances a producer's sequence. Recovery replays the
 * log through the same {@link #update}, rejecting nothing: the log is the truth.
 *
 * <p>Bounded: at most {@code maxProducers} entries; inserting one more evicts one (counted in {@link #evictions()})
 * chosen by the table's {@link EvictionPolicy}: by default a segmented LRU, in which a storm of new producer ids
 * evicts only producers that have written a single batch, never the {@code maxProducers - probationReserve} most
 * recently written producers that wrote at least two (see {@link EvictionPolicy#SEGMENTED_LRU}). Producers idle
 * for {@code expirationMs} are removed by {@link #removeExpired}. Time is always passed in (server clock), never
 * read here. Every decision is a function of the calls made (no clock, no randomness), so replaying the same calls
 * rebuilds the same table.
 *
 * <p>Not thread-safe: one writer (the partition, under its lock).
 */
public interface ProducerStateTable {
    /** Batches remembered per producer for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN). */
    int RETAINED_BATCHES = 5;

    /** Cached batches of its current epoch that make a producer protected ({@link EvictionPolicy#SEGMENTED_LRU}). */
    int PROTECTED_BATCHES = 2;

    /**
     * Producers on probation below which a full segmented-LRU table evicts a protected producer instead: a tenth of
     * the table (at least 1), so that new producers always have room to prove themselves.
     */
    static int probationReserve(int maxProducers) {
        return Math.max(1, maxProducers / 10);
    }

    /**
     * Checks a batch against the state, in the order of IDEMPOTENCE.md, and changes nothing. For a
     * {@link SequenceOutcome#DUPLICATE} the original offsets are then available from {@link #duplicateFirstOffset()}
     * and {@link #duplicateLastOffset()}.
     *
     * <p>A batch is a duplicate when its (firstSequence, lastSequence) equals a cached batch's; given the first
     * sequence, that is the same as equal lastOffsetDelta (both are in [0, Integer.MAX_VALUE]), which is what is
     * compared. Should several cached batches match (only possible after recovery replayed a producer that had
     * expired live and then re-sent an old batch), the newest one is the original: it is what the live server,
     * which had forgotten the older one, answered.
     *
     * @param producerId      the batch's producerId (-1: not idempotent)
     * @param epoch           the batch's producerEpoch
     * @param firstSequence   the batch's baseSequence
     * @param lastOffsetDelta the batch's lastOffsetDelta (records - 1, already validated to be >= 0)
     */
    SequenceOutcome check(long producerId, short epoch, int firstSequence, int lastOffsetDelta);

    /**
     * What the table holds for {@code producerId}, for a refusal's message (not a hot path): its epoch, the next
     * sequence it expects and the sequence ranges of its retained batches, or that it holds nothing.
     */
    default String describe(long producerId) {
        return "";
    }

    /**
     * For a batch that {@link #check} answered OUT_OF_ORDER: when it is of the producer's current epoch and its
     * sequences come right before or anywhere before those of every batch retained for it (by less than 2^30), the
     * first offset of the oldest retained batch, where a search for an original appended before the retained window
     * ends; otherwise -1. Such a batch is a retry that arrived after later batches of the same producer were
     * appended: kafka-clients, after a leader change, sends new batches to the new leader while earlier ones are
     * still in flight to the old one (KAFKA-9199), and with more than {@link #RETAINED_BATCHES} of them the
     * earlier ones fall out of the window. Not a hot path.
     */
    default long precedesRetained(long producerId, short epoch, int firstSequence, int lastOffsetDelta) {
        return -1L;
    }

    /** Whether a batch ending at sequence {@code last} comes before one starting at {@code first} (wrapping). */
    static boolean before(int last, int first) {
        long gap = ((long) first - last - 1) & 0x7FFF_FFFFL; // sequences are 31-bit, MAX_VALUE + 1 wraps to 0
        return gap < (1L << 30);
    }

    /** First offset of the original batch found by the last {@link #check} that answered DUPLICATE. */
    long duplicateFirstOffset();

    /** Last offset of the original batch found by the last {@link #check} that answered DUPLICATE. */
    long duplicateLastOffset();

    /**
     * Records an appended batch: a new producer gets an entry (evicting one per the {@link EvictionPolicy} when the
     * table is full); a different epoch than the stored one replaces it and forgets the cached batches; the batch
     * becomes the newest of the producer's window (pushing out the oldest beyond {@link #RETAINED_BATCHES}); the
     * producer becomes the most recently written of its segment (protected once its window holds
     * {@link #PROTECTED_BATCHES} batches, on probation before, and again after an epoch change). Ignores
     * producerId < 0.
     *
     * @param nowMs server time of the write, for expiry
     */
    void update(long producerId, short epoch, int firstSequence, int lastOffsetDelta, long firstOffset, long nowMs);

    /**
     * Removes producers whose last write is at least {@code expirationMs} before {@code nowMs}, walking each segment
     * from its least recently written producer and stopping at the first one still alive (within a segment, the
     * write order is the time order as long as the server clock does not go backwards; if it does, expiry of the
     * few affected entries is merely late).
     *
     * @return number of producers removed
     */
    int removeExpired(long nowMs);

    /** Producers currently held. */
    int size();

    /** Producers evicted so far because the table was full (expiry is not counted). */
    long evictions();

    /**
     * Visits every entry in eviction order: the producers on probation least recently written first, then the
     * protected ones least recently written first (under plain LRU: all, least recently written first). Replaying
     * the visit through {@link #update} rebuilds an identical table.
     */
    void forEachOldestFirst(ProducerEntryVisitor visitor);

    /** Forgets every producer (the eviction counter is kept). */
    void clear();
}
