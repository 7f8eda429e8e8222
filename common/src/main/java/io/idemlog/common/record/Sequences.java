package io.idemlog.common.record;

/**
 * Producer sequence arithmetic. Sequences are non-negative INT32 values that wrap from {@link Integer#MAX_VALUE}
 * to 0, so "the next sequence" and "the last sequence of a batch" are computed modulo 2^31.
 */
public final class Sequences {
    private Sequences() {
    }

    /** The sequence {@code increment} after {@code sequence}, wrapping at Integer.MAX_VALUE to 0. */
    public static int increment(int sequence, int increment) {
        if (sequence > Integer.MAX_VALUE - increment) {
            return increment - (Integer.MAX_VALUE - sequence) - 1;
        }
        return sequence + increment;
    }

    /** The sequence following {@code sequence}. */
    public static int next(int sequence) {
        return sequence == Integer.MAX_VALUE ? 0 : sequence + 1;
    }

    /** Last sequence of a batch starting at {@code baseSequence} whose last offset delta is {@code lastOffsetDelta}. */
    public static int lastSequence(int baseSequence, int lastOffsetDelta) {
        return increment(baseSequence, lastOffsetDelta);
    }
}
