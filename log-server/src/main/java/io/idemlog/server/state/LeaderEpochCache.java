package io.idemlog.server.state;

import java.util.Arrays;

/**
 * A partition's leader epochs: for each epoch that wrote data, the offset of its first batch (KIP-320; Kafka's
 * leader-epoch-checkpoint). Epochs are strictly increasing and their start offsets non-decreasing. Maintained by the
 * partition's single writer (the applier records an epoch when the first batch of a larger one is appended); made
 * durable as {@link LeaderEpochFile}. A single node writes epoch 0 only, so it holds one entry. Not thread-safe:
 * the writer, or its owner's lock.
 */
public final class LeaderEpochCache {
    /** {@link #endOffsetFor}'s answer when the epoch is unknown (Kafka's UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET). */
    public static final int UNDEFINED_EPOCH = -1;
    public static final long UNDEFINED_OFFSET = -1L;

    private int[] epochs = new int[4];
    private long[] starts = new long[4];
    private int size;

    /** The newest epoch, or {@link #UNDEFINED_EPOCH} when there is none. */
    public int latestEpoch() {
        return size == 0 ? UNDEFINED_EPOCH : epochs[size - 1];
    }

    public int size() {
        return size;
    }

    public int epochAt(int i) {
        return epochs[i];
    }

    public long startOffsetAt(int i) {
        return starts[i];
    }

    /**
     * Records that {@code epoch} starts at {@code startOffset}, when it is larger than the latest epoch; returns
     * whether it was recorded (false: the epoch is not newer, nothing changes).
     *
     * @throws IllegalArgumentException when the epoch is negative, or the offset below the latest epoch's start
     */
    public boolean assign(int epoch, long startOffset) {
        if (epoch < 0 || startOffset < 0) {
            throw new IllegalArgumentException("epoch " + epoch + " at offset " + startOffset);
        }
        if (epoch <= latestEpoch()) {
            return false;
        }
        if (size > 0 && startOffset < starts[size - 1]) {
            throw new IllegalArgumentException("epoch " + epoch + " would start at " + startOffset
                + ", below the start of epoch " + epochs[size - 1] + " at " + starts[size - 1]);
        }
        if (size == epochs.length) {
            epochs = Arrays.copyOf(epochs, size * 2);
            starts = Arrays.copyOf(starts, size * 2);
        }
        epochs[size] = epoch;
        starts[size] = startOffset;
        size++;
        return true;
    }

    /**
     * Drops the epochs that start at or after {@code endOffset} (the log was cut there: their first batch is gone);
     * returns whether anything was dropped.
     */
    public boolean truncateFromEnd(long endOffset) {
        int was = size;
        while (size > 0 && starts[size - 1] >= endOffset) {
            size--;
        }
        return size != was;
    }

    /**
     * KIP-320's OffsetsForLeaderEpoch for {@code requested}: {epoch, endOffset}. The latest epoch ends at the log
     * end; an older one at the start of the first epoch above it, and the epoch answered is the largest known one at
     * or below the request (the request itself when it is below every known epoch); an epoch above every known one,
     * or none known, is {UNDEFINED_EPOCH, UNDEFINED_OFFSET}. The same rules as Kafka's LeaderEpochFileCache.
     */
    public long[] endOffsetFor(int requested, long logEndOffset) {
        if (requested == UNDEFINED_EPOCH || size == 0) {
            return new long[] {UNDEFINED_EPOCH, UNDEFINED_OFFSET};
        }
        if (requested == latestEpoch()) {
            return new long[] {requested, logEndOffset};
        }
        int higher = -1;
        for (int i = 0; i < size; i++) {
            if (epochs[i] > requested) {
                higher = i;
                break;
            }
        }
        if (higher < 0) {
            return new long[] {UNDEFINED_EPOCH, UNDEFINED_OFFSET};
        }
        int answered = higher == 0 ? requested : epochs[higher - 1];
        return new long[] {answered, starts[higher]};
    }

    /** Replaces this cache's entries with {@code other}'s. */
    public void copyFrom(LeaderEpochCache other) {
        epochs = Arrays.copyOf(other.epochs, Math.max(4, other.size));
        starts = Arrays.copyOf(other.starts, Math.max(4, other.size));
        size = other.size;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LeaderEpochCache c) || c.size != size) {
            return false;
        }
        return Arrays.equals(epochs, 0, size, c.epochs, 0, size) && Arrays.equals(starts, 0, size, c.starts, 0, size);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(Arrays.copyOf(epochs, size)) + Arrays.hashCode(Arrays.copyOf(starts, size));
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < size; i++) {
            b.append(i == 0 ? "" : ", ").append(epochs[i]).append('@').append(starts[i]);
        }
        return b.append(']').toString();
    }
}
