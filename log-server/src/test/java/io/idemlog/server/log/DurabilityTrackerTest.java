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

/**
 * DurabilityTracker's waiting callbacks (a heap in primitive arrays since 2026-12-04, before a PriorityQueue of
 * records): against a reference model over seeded random registrations and advances, every callback runs once, with
 * NONE exactly when the watermark passed its offset, in (offset, registration) order; a failure completes the rest
 * with KAFKA_STORAGE_ERROR, in the same order; only the commit-lock holder advances.
 */
class DurabilityTrackerTest {
    private record Expected(long offset, int id) {
    }

    @Test
    void callbacksCompleteOnceInOffsetThenRegistrationOrderAgainstAReferenceModel() {
        for (long seed = 1; seed <= 40; seed++) {
            Random random = new Random(seed);
            ReentrantLock owner = new ReentrantLock();
            DurabilityTracker t = new DurabilityTracker(0L, owner);
            List<Expected> pending = new ArrayList<>();
            List<Integer> completed = new ArrayList<>();
            List<ErrorCode> errors = new ArrayList<>();
            long hw = 0;
            int ids = 0;
            owner.lock();
            try {
                for (int step = 0; step < 2000; step++) {
                    if (random.nextInt(4) != 0) {
                        long offset = hw + random.nextInt(50) - 3; // some already below the watermark
                        int id = ids++;
                        if (offset < hw) {
                            t.whenDurable(offset, e -> {
                                completed.add(id);
                                errors.add(e);
                            });
                            assertEquals(id, completed.get(completed.size() - 1), "below the watermark: at once");
                        } else {
                            pending.add(new Expected(offset, id));
                            t.whenDurable(offset, e -> {
                                completed.add(id);
                                errors.add(e);
                            });
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
                            completed.size()), "seed " + seed + " step " + step);
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
                t.whenDurable(hw + 1, e -> errors.add(e));
                assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, errors.get(errors.size() - 1), "failed for good");
            } finally {
                owner.unlock();
            }
            assertEquals(ids + 1, errors.size(), "every callback once (and the one after the failure)");
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
