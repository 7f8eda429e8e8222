package io.idemlog.client.internal;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * One partition's idempotence bookkeeping: the producer id and epoch it writes under, the next sequence, and the
 * batches that were sent and are not answered yet ("unacked"), in sequence order. No I/O, no clock, no locks:
 * the I/O thread alone calls it, and unit tests drive it directly.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>A batch is stamped (producer id, epoch, sequence) exactly once, when it is first drained, and keeps that
 *       stamp until it completes: a retry sends the same bytes. In particular a batch that may already be in the
 *       log is never re-stamped under a new epoch (the duplicate of KAFKA-14034).</li>
 *   <li>{@link #unacked} is in sequence order and holds at most {@code maxUnacked} batches (the server keeps the
 *       last 5 batches per producer: a retry further back could not be recognised as a duplicate).</li>
 *   <li>Order: while any unacked batch waits for a retry, no new batch is stamped, and the earliest waiting batch
 *       goes first ({@link #retryCandidate()}); later batches wait behind it.</li>
 *   <li>The epoch changes only when nothing of this partition is unacked, so a batch of the old epoch can never
 *       reach the server after one of the new epoch (which would be fenced with INVALID_PRODUCER_EPOCH).</li>
 * </ul>
 *
 * <h2>Sequence gaps and the local epoch bump (KIP-360)</h2>
 * A batch that dies after it was stamped (its delivery timeout passed while its fate was unknown, or the server
 * rejected it for good) leaves a possible gap: the server expects its sequence next, and nothing will ever fill
 * it. The partition then stops stamping ({@link #needsReset()}); batches already stamped keep being retried until
 * they resolve or die too. A later batch acknowledged past the gap proves the dead batch was written after all
 * (the server accepts only contiguous sequences), which clears the gap. Otherwise, once nothing is unacked, the
 * partition bumps its epoch locally and restarts at sequence 0: the server accepts a higher epoch at sequence 0.
 * At epoch {@link Short#MAX_VALUE} the partition needs a new producer id instead ({@link #needsProducerId()}).
 *
 * <h2>Sequences</h2>
 * Sequences are kept unwrapped as 64-bit "logical" values, so comparisons are plain; the wire value is the
 * logical value modulo 2^31 ({@link #wire}), which is exactly the wrap from Integer.MAX_VALUE to 0.
 */
public final class PartitionProducerState {
    /** What to do with a batch the server answered OUT_OF_ORDER_SEQUENCE_NUMBER. */
    public enum OutOfOrderAction {
        /** An earlier batch of the partition is still pending: this one failed only because it came first. */
        RETRY,
        /** Nothing earlier can fill the gap any more: the batch can never be written under this epoch. */
        FAIL
    }

    private final boolean idempotent;
    private final int maxUnacked;
    private final ArrayDeque<ProducerBatch> unacked = new ArrayDeque<>();
    private long producerId = -1L;
    private short epoch = -1;
    private long nextSequence;
    /** The highest logical sequence the server acknowledged in the current epoch; -1 when none. */
    private long lastAckedSequence = -1L;
    /** The last logical sequence of the latest dead batch of this epoch, -1 when there is no possible gap. */
    private long gapUpTo = -1L;
    private boolean exhausted;
    /** Highest epoch a local bump may reach: the end of a named producer's epoch block, else Short.MAX_VALUE. */
    private short epochLimit = Short.MAX_VALUE;

    public PartitionProducerState(boolean idempotent, int maxUnacked) {
        this.idempotent = idempotent;
        this.maxUnacked = maxUnacked;
    }

    /** The wire form of a logical sequence: modulo 2^31, i.e. Integer.MAX_VALUE + 1 wraps to 0. */
    public static int wire(long logicalSequence) {
        return (int) (logicalSequence & 0x7FFF_FFFFL);
    }

    public boolean idempotent() {
        return idempotent;
    }

    public long producerId() {
        return producerId;
    }

    public short epoch() {
        return epoch;
    }

    /**
     * Bounds local epoch bumps to {@code limit} (a named producer's epoch block: the server hands the next instance
     * of the name the epoch after it, so a bump beyond would collide with it). Reaching it exhausts the epoch.
     */
    public void limitEpoch(short limit) {
        epochLimit = limit;
    }

    /** Whether the epoch is exhausted (at its limit, and a bump was needed). */
    public boolean exhausted() {
        return exhausted;
    }

    /** The logical sequence the next new batch will get. */
    public long nextSequence() {
        return nextSequence;
    }

    public long lastAckedSequence() {
        return lastAckedSequence;
    }

    public int unackedCount() {
        return unacked.size();
    }

    public boolean hasUnacked() {
        return !unacked.isEmpty();
    }

    public Iterable<ProducerBatch> unacked() {
        return unacked;
    }

    /** A possible sequence gap exists: new batches wait until the epoch is bumped or the gap is resolved. */
    public boolean needsReset() {
        return gapUpTo >= 0;
    }

    /**
     * The partition cannot stamp until it adopts a producer id: it never had one, or its epoch is exhausted.
     */
    public boolean needsProducerId() {
        return idempotent && (producerId < 0 || exhausted);
    }

    /**
     * Takes a producer id and epoch from an InitProducerId answer. Only when nothing is unacked, and only a
     * different id when the epoch was exhausted (the same id would collide with sequences already used).
     * Returns whether it was adopted.
     */
    public boolean adoptProducerId(long newProducerId, short newEpoch) {
        if (!idempotent || !unacked.isEmpty() || !needsProducerId()) {
            return false;
        }
        if (exhausted && newProducerId == producerId) {
            return false;
        }
        producerId = newProducerId;
        epoch = newEpoch;
        epochLimit = Short.MAX_VALUE;
        restartSequences();
        exhausted = false;
        return true;
    }

    private void restartSequences() {
        nextSequence = 0;
        lastAckedSequence = -1L;
        gapUpTo = -1L;
    }

    /**
     * The earliest unacked batch waiting to be sent again (its previous attempt failed), or null. While there is
     * one, it is the only batch of the partition that may go out next.
     */
    public ProducerBatch retryCandidate() {
        for (ProducerBatch b : unacked) {
            if (!b.inFlight) {
                return b;
            }
        }
        return null;
    }

    /** Whether a never-sent batch may be stamped and sent now. */
    public boolean canSendNew() {
        if (idempotent && (needsProducerId() || needsReset())) {
            return false;
        }
        return unacked.size() < maxUnacked && retryCandidate() == null;
    }

    /** Stamps a never-sent batch with the next sequences (when idempotent) and tracks it as unacked. */
    public void track(ProducerBatch batch) {
        if (!canSendNew()) {
            throw new IllegalStateException("partition cannot take a new batch now: " + this);
        }
        if (idempotent) {
            batch.stamp(producerId, epoch, nextSequence);
            nextSequence += batch.recordCount();
        }
        unacked.addLast(batch);
    }

    /** The batch was handed to the network. */
    public void onSent(ProducerBatch batch) {
        batch.inFlight = true;
        batch.attempts++;
    }

    /**
     * The server wrote the batch (or had written it before: a duplicate is answered like the original).
     * Returns true when this resolved a possible gap.
     */
    public boolean onAcked(ProducerBatch batch) {
        batch.inFlight = false;
        unacked.remove(batch);
        if (!idempotent || !isCurrentEpoch(batch)) {
            return false;
        }
        lastAckedSequence = Math.max(lastAckedSequence, batch.logicalLastSequence());
        if (gapUpTo >= 0 && batch.logicalBaseSequence > gapUpTo) {
            // The server accepted a sequence after the dead batch: the dead batch was written after all.
            gapUpTo = -1L;
            return true;
        }
        return false;
    }

    /** The attempt failed in a way that leaves the batch retriable (a lost connection, NOT_LEADER, ...). */
    public void onRetriableFailure(ProducerBatch batch, long retryAtMs) {
        batch.inFlight = false;
        batch.retryAtMs = retryAtMs;
    }

    /** Decides about a batch answered OUT_OF_ORDER_SEQUENCE_NUMBER. */
    public OutOfOrderAction onOutOfOrder(ProducerBatch batch) {
        batch.inFlight = false;
        for (ProducerBatch b : unacked) {
            if (b == batch) {
                break;
            }
            // An earlier batch is still alive (in flight or waiting for its retry): it can fill the gap.
            return OutOfOrderAction.RETRY;
        }
        return OutOfOrderAction.FAIL;
    }

    /**
     * The batch is finished without success: it timed out or was rejected for good. It is never sent again. If it
     * carried sequences of the current epoch, they may now be a gap.
     */
    public void onDead(ProducerBatch batch) {
        batch.inFlight = false;
        boolean removed = unacked.remove(batch);
        if (idempotent && removed && batch.isStamped() && isCurrentEpoch(batch)
            && batch.logicalLastSequence() > lastAckedSequence) {
            gapUpTo = Math.max(gapUpTo, batch.logicalLastSequence());
        }
    }

    /**
     * Bumps the epoch when a possible gap exists and nothing is unacked any more; returns true when it bumped.
     * At {@link Short#MAX_VALUE} the partition asks for a new producer id instead.
     */
    public boolean maybeBumpEpoch() {
        if (!idempotent || gapUpTo < 0 || !unacked.isEmpty()) {
            return false;
        }
        if (epoch >= epochLimit) {
            exhausted = true;
            gapUpTo = -1L;
            return false;
        }
        epoch++;
        restartSequences();
        return true;
    }

    private boolean isCurrentEpoch(ProducerBatch batch) {
        return batch.producerId == producerId && batch.producerEpoch == epoch;
    }

    /** Removes every unacked batch (fatal error, forced close); returns them in sequence order. */
    public void drainUnacked(java.util.function.Consumer<ProducerBatch> sink) {
        Iterator<ProducerBatch> it = unacked.iterator();
        while (it.hasNext()) {
            ProducerBatch b = it.next();
            it.remove();
            sink.accept(b);
        }
    }

    @Override
    public String toString() {
        return "PartitionProducerState(pid=" + producerId + ", epoch=" + epoch + ", nextSeq=" + nextSequence
            + ", lastAcked=" + lastAckedSequence + ", gapUpTo=" + gapUpTo + ", unacked=" + unacked.size()
            + (exhausted ? ", exhausted" : "") + ")";
    }
}
