package io.idemlog.server.log;

import io.idemlog.server.state.LeaderEpochCache;

/**
 * KIP-320's answer for one requested leader epoch (OffsetsForLeaderEpoch): the largest epoch at or below the
 * requested one that this partition knows, and the offset where it ends (the start offset of the next epoch, or the
 * log end offset for the current one). {@link #UNDEFINED} (-1, -1) when the requested epoch is above every known
 * one, or none is known; see {@link LeaderEpochCache#endOffsetFor}.
 */
public record EpochEndOffset(int leaderEpoch, long endOffset) {
    /** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET. */
    public static final EpochEndOffset UNDEFINED =
        new EpochEndOffset(LeaderEpochCache.UNDEFINED_EPOCH, LeaderEpochCache.UNDEFINED_OFFSET);

    public boolean isUndefined() {
        return leaderEpoch == LeaderEpochCache.UNDEFINED_EPOCH && endOffset == LeaderEpochCache.UNDEFINED_OFFSET;
    }
}
