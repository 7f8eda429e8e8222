package io.idemlog.server.replication;

/**
 * A leader's watch for a follower that answers but never catches up (docs/REPLICATION.md 4.9, found 2026-12-03 by
 * ClusterStopTest): after a frozen old leader came back with an uncommitted tail of its own term, its new leader's
 * Ratis log appender kept sending it heartbeats whose previous entry it did not have, it answered INCONSISTENCY with
 * the same next index every time, for the remaining 90 s of the test, and its replica never caught up (the appender
 * would not back off below a match index it had recorded for that follower). A new leadership starts with fresh
 * follower state; so the remedy is that this leader steps down once it sees the pattern.
 *
 * <p>The pattern, per follower: it answered within {@code responsiveMs} (so it is alive, not merely down: a stopped
 * follower never triggers this), its match index stayed the same for {@code stuckMs} while the leader's commit index
 * was above it, and the entries it needs are still in the leader's Raft log (a follower behind the purged log is
 * caught up by a snapshot install, whose progress this cannot see and must not interrupt). After a step-down the
 * next one for this partition waits twice as long (at most {@link #MAX_BACKOFF} times {@code stuckMs}).
 *
 * <p>Pure (the caller passes the time and what Ratis reports), single-threaded (the caller's periodic task).
 */
final class StuckFollowerDetector {
    static final int MAX_BACKOFF = 16;

    private final long stuckMs;
    private final long responsiveMs;
    private long[] lastMatch = new long[0];
    private long[] sinceMs = new long[0];
    private int backoff = 1;
    private long quietUntilMs = Long.MIN_VALUE;

    StuckFollowerDetector(long stuckMs, long responsiveMs) {
        this.stuckMs = stuckMs;
        this.responsiveMs = responsiveMs;
    }

    /** This node does not lead now: forget what was seen (a new leadership has new follower state). */
    void reset() {
        lastMatch = new long[0];
        sinceMs = new long[0];
    }

    /**
     * One observation of this leader's followers.
     *
     * @param nowMs           a monotonic clock
     * @param match           each follower's match index as this leader records it
     * @param lastRpcMs       milliseconds since each follower last answered (the same order as {@code match})
     * @param commitIndex     this leader's commit index
     * @param logStartIndex   the first index still in this leader's Raft log
     * @return the position of a stuck follower (the leader should step down now), or -1
     */
    int observe(long nowMs, long[] match, long[] lastRpcMs, long commitIndex, long logStartIndex) {
        if (match == null || lastRpcMs == null || match.length != lastRpcMs.length) {
            reset();
            return -1;
        }
        if (match.length != lastMatch.length) {
            lastMatch = match.clone();
            sinceMs = new long[match.length];
            java.util.Arrays.fill(sinceMs, nowMs);
            return -1;
        }
        int stuck = -1;
        for (int i = 0; i < match.length; i++) {
            boolean behind = commitIndex > match[i];
            boolean replayable = match[i] + 1 >= logStartIndex;
            boolean answering = lastRpcMs[i] <= responsiveMs;
            if (match[i] != lastMatch[i] || !behind || !replayable || !answering) {
                lastMatch[i] = match[i];
                sinceMs[i] = nowMs;
                continue;
            }
            if (nowMs - sinceMs[i] >= stuckMs * backoff && nowMs >= quietUntilMs && stuck < 0) {
                stuck = i;
            }
        }
        if (stuck >= 0) {
            backoff = Math.min(MAX_BACKOFF, backoff * 2);
            quietUntilMs = nowMs + stuckMs * backoff;
            reset();
        }
        return stuck;
    }
}
