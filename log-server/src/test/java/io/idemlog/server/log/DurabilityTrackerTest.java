package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DurabilityTracker's waiting callbacks (a heap in primitive arrays since 2026-12-04, before a PriorityQueue of
 * records): against a reference model over seeded random registrations and advances, every callback runs once, with
 * NONE exactly when the watermark passed its offset, in (offset, registration) order; a failure completes the rest
 * with KAFKA_STORAGE_ERROR, in the same order; only the commit-lock holder advances. The same model checks the
 * token form ({@link DurabilityListener}, one listener for many waits), alone and interleaved with callbacks, and
 * that it allocates nothing per registration once the heap has grown.
 */
class DurabilityTrackerTest {
    private record Expected(long offset, int id) {
    }

    /** How the model's registrations are made. */
    private enum Form { CALLBACK, TOKEN, MIXED }

    @Test
    void callbacksCompleteOnceInOffsetThenRegistrationOrderAgainstAReferenceModel() {
        againstTheModel(Form.CALLBACK);
    }

    @Test
    void tokenListenersCompleteOnceInOffsetThenRegistrationOrderAgainstAReferenceModel() {
        againstTheModel(Form.TOKEN);
    }

    @Test
    void callbacksAndTokenListenersShareOneOrderAgainstAReferenceModel() {
        againstTheModel(Form.MIXED);
    }

    /**
     * Seeded random registrations and advances, then a failure. With tokens, one listener serves every
     * registration and the token is the registration's id, so the listener records which wait it answers from the
     * token alone.
     */
    private static void againstTheModel(Form form) {
        for (long seed = 1; seed <= 40; seed++) {
            Random random = new Random(seed);
            ReentrantLock owner = new ReentrantLock();
            DurabilityTracker t = new DurabilityTracker(0L, owner);
            List<Expected> pending = new ArrayList<>();
            List<Integer> completed = new ArrayList<>();
            List<ErrorCode> errors = new ArrayList<>();
            DurabilityListener listener = (token, e) -> {
                completed.add(token);
                errors.add(e);
            };
            long hw = 0;
            int ids = 0;
            owner.lock();
            try {
                for (int step = 0; step < 2000; step++) {
                    if (random.nextInt(4) != 0) {
                        long offset = hw + random.nextInt(50) - 3; // some already below the watermark
                        int id = ids++;
                        if (offset >= hw) {
                            pending.add(new Expected(offset, id));
                        }
                        if (form == Form.TOKEN || form == Form.MIXED && random.nextBoolean()) {
                            t.whenDurable(offset, listener, id);
                        } else {
                            t.whenDurable(offset, e -> {
                                completed.add(id);
                                errors.add(e);
                            });
                        }
                        if (offset < hw) {
                            assertEquals(id, completed.get(completed.size() - 1), "below the watermark: at once");
                            assertEquals(ErrorCode.NONE, errors.get(errors.size() - 1));
                        }
                    } else {
                        long next = hw + random.nextInt(30);
                        int before = completed.size();
                        t.advanceTo(next);
                        if (next > hw) {
                            hw = next;
                        }
                        long now = hw;
                        List<Expected> due = new ArrayList<>(pending.stream().filter(x -> x.offset() < now).toList());
                        due.sort(Comparator.comparingLong(Expected::offset).thenComparingInt(Expected::id));
                        pending.removeAll(due);
                        assertEquals(due.stream().map(Expected::id).toList(), completed.subList(before,
                            completed.size()), form + " seed " + seed + " step " + step);
                        for (int i = before; i < errors.size(); i++) {
                            assertEquals(ErrorCode.NONE, errors.get(i));
                        }
                        assertEquals(pending.size(), t.waiting());
                    }
                }
                int before = completed.size();
                t.fail();
                pending.sort(Comparator.comparingLong(Expected::offset).thenComparingInt(Expected::id));
                assertEquals(pending.stream().map(Expected::id).toList(), completed.subList(before, completed.size()));
                for (int i = before; i < errors.size(); i++) {
                    assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, errors.get(i));
                }
                assertEquals(0, t.waiting());
                if (form == Form.CALLBACK) {
                    t.whenDurable(hw + 1, e -> errors.add(e));
                } else {
                    t.whenDurable(hw + 1, listener, ids);
                    assertEquals(ids, completed.get(completed.size() - 1), "at once, with its token");
                }
                assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, errors.get(errors.size() - 1), "failed for good");
            } finally {
                owner.unlock();
            }
            assertEquals(ids + 1, errors.size(), "every callback once (and the one after the failure)");
        }
    }

    @Test
    void negativeTokensAreRefused() {
        DurabilityTracker t = new DurabilityTracker(0L, new ReentrantLock());
        assertThrows(IllegalArgumentException.class, () -> t.whenDurable(5L, (token, e) -> { }, -1));
        assertEquals(0, t.waiting());
    }

    /**
     * The produce path's reason for the token form: once the heap's arrays have grown, registering and completing
     * a wait allocates nothing (a callback object per wait would be >= 16 bytes each).
     */
    @Test
    void tokenWaitsAllocateNothingOnceTheHeapHasGrown() {
        com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        ReentrantLock owner = new ReentrantLock();
        DurabilityTracker t = new DurabilityTracker(0L, owner);
        long[] sum = new long[1];
        DurabilityListener listener = (token, e) -> sum[0] += token;
        owner.lock();
        try {
            long next = 0;
            int rounds = 2_000;
            long before = 0;
            for (int round = 0; round < 2 * rounds; round++) {
                if (round == rounds) { // the first half warms up (and grows the arrays)
                    before = threads.getThreadAllocatedBytes(me);
                }
                for (int i = 0; i < 64; i++) {
                    t.whenDurable(next + 63 - i, listener, i); // out of order: the heap sifts
                }
                next += 64;
                t.advanceTo(next);
            }
            long perWait = (threads.getThreadAllocatedBytes(me) - before) / (rounds * 64L);
            assertTrue(perWait < 1, "an object per wait would be >= 16 bytes; got " + perWait);
            assertEquals(0, t.waiting());
            assertEquals(2L * rounds * (63 * 64 / 2), sum[0], "every wait answered once, with its token");
        } finally {
            owner.unlock();
        }
    }

    @Test
    void onlyTheCommitLockHolderAdvances() {
        DurabilityTracker t = new DurabilityTracker(5L, new ReentrantLock());
        assertThrows(IllegalStateException.class, () -> t.advanceTo(10));
        assertThrows(IllegalStateException.class, t::fail);
        assertEquals(5L, t.highWatermark());
    }
}
