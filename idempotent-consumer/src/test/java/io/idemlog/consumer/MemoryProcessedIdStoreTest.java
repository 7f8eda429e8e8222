package io.idemlog.consumer;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store contract on {@link MemoryProcessedIdStore}, plus what only it does. */
class MemoryProcessedIdStoreTest extends ProcessedIdStoreContract {
    @Override
    protected ProcessedIdStore create(Duration window, long maxIds, Clock clock) {
        return MemoryProcessedIdStore.builder().window(window).maxIds(maxIds).clock(clock).build();
    }

    @Override
    protected void awaitBlocked(Thread t) {
        awaitParked(t);
    }

    @Test
    void shouldCountEvictionsByTheBoundAtCommit() {
        MemoryProcessedIdStore s = (MemoryProcessedIdStore) store(WINDOW, 10);
        for (int i = 0; i < 25; i++) {
            insertAndCommit(s, "app", "k" + i, T0);
        }
        assertEquals(10, s.size(), "memory enforces the bound at every commit, without a purge");
        assertEquals(15, s.evictions());
    }

    @Test
    void shouldTimeOutAWaitForAnInsertThatNeverEnds() {
        MemoryProcessedIdStore s = MemoryProcessedIdStore.builder().lockTimeout(Duration.ofMillis(50)).build();
        StoreTransaction first = s.begin();
        assertTrue(first.insertIfAbsent("app", id("x"), T0));
        try (StoreTransaction second = s.begin()) {
            assertThrows(StoreException.class, () -> second.insertIfAbsent("app", id("x"), T0));
        }
        first.rollback();
    }
}
