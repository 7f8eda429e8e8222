package io.idemlog.server.replication;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The leader's stuck-follower rule: only a follower that answers, whose match index stands still below the commit
 * index for the whole bound while the entries it needs are still in the leader's log, makes the leader step down;
 * lagging-but-moving, stopped, or install-bound followers never do. Times in ms, bound 15 000, answering = 2000.
 */
class StuckFollowerDetectorTest {
    private static final long STUCK = 15_000;

    private static int run(StuckFollowerDetector d, long from, long to, long[] match, long[] rpc, long commit,
                           long start) {
        for (long t = from; t <= to; t += 1000) {
            int r = d.observe(t, match, rpc, commit, start);
            if (r >= 0) {
                return (int) ((t - from) / 1000) * 10 + r; // when (s) and who
            }
        }
        return -1;
    }

    @Test
    void aFollowerThatAnswersButWhoseMatchIndexStandsStillIsReportedAfterTheBound() {
        StuckFollowerDetector d = new StuckFollowerDetector(STUCK, 2000);
        long[] match = {900, 353};
        long[] rpc = {10, 20};
        // follower 0 keeps up (its match index moves each second), follower 1 is stuck at 353
        int found = -1;
        for (long t = 0; t <= 20_000 && found < 0; t += 1000) {
            match[0] += 7;
            found = d.observe(t, match, rpc, 1000 + t, 100);
            if (found >= 0) {
                assertEquals(15_000, t, "reported once the bound has passed");
            }
        }
        assertEquals(1, found);
        // the next report for this partition waits twice as long (a step-down that did not help)
        assertEquals(-1, run(d, 21_000, 21_000 + 2 * STUCK - 2000, match, rpc, 5000, 100));
    }

    @Test
    void movingStoppedCaughtUpOrInstallBoundFollowersAreNeverReported() {
        // a follower behind but moving
        StuckFollowerDetector moving = new StuckFollowerDetector(STUCK, 2000);
        long[] m = {100};
        for (long t = 0; t < 60_000; t += 1000) {
            m[0] += 1;
            assertEquals(-1, moving.observe(t, m, new long[] {5}, 100_000, 0));
        }
        // a follower that does not answer (stopped, cut off): its match stands still, but it is not stuck
        assertEquals(-1, run(new StuckFollowerDetector(STUCK, 2000), 0, 60_000, new long[] {100},
            new long[] {30_000}, 5000, 0));
        // caught up: nothing committed beyond its match index
        assertEquals(-1, run(new StuckFollowerDetector(STUCK, 2000), 0, 60_000, new long[] {5000},
            new long[] {5}, 5000, 0));
        // the entries it needs are purged from the leader's log: a snapshot install catches it up
        assertEquals(-1, run(new StuckFollowerDetector(STUCK, 2000), 0, 60_000, new long[] {100},
            new long[] {5}, 5000, 400));
        // a change of membership (another follower count) starts over
        StuckFollowerDetector d = new StuckFollowerDetector(STUCK, 2000);
        assertEquals(-1, run(d, 0, 10_000, new long[] {100, 100}, new long[] {5, 5}, 5000, 0));
        assertEquals(-1, run(d, 11_000, 25_000, new long[] {100}, new long[] {5}, 5000, 0));
        // and losing leadership forgets what was seen
        StuckFollowerDetector r = new StuckFollowerDetector(STUCK, 2000);
        assertEquals(-1, run(r, 0, 14_000, new long[] {100}, new long[] {5}, 5000, 0));
        r.reset();
        assertEquals(-1, run(r, 15_000, 29_000, new long[] {100}, new long[] {5}, 5000, 0));
        assertEquals(0, r.observe(30_000, new long[] {100}, new long[] {5}, 5000, 0));
    }
}
