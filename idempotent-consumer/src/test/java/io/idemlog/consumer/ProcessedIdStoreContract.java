package io.idemlog.consumer;

import io.idemlog.testkit.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one contract every {@link ProcessedIdStore} passes (JCTools' MpqSanityTest style): each implementation's test
 * class extends this and says how to build a store and how to see that a thread waits for a row lock.
 */
abstract class ProcessedIdStoreContract {
    static final Duration WINDOW = Duration.ofMinutes(10);
    static final long T0 = 1_700_000_000_000L;

    protected final MutableClock clock = new MutableClock(T0);
    private final List<ProcessedIdStore> stores = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    /** A new, empty store with this window and bound, whose purge uses {@code clock}. */
    protected abstract ProcessedIdStore create(Duration window, long maxIds, Clock clock);

    /** Waits until {@code t} is blocked inside the store waiting for another transaction's insert. */
    protected abstract void awaitBlocked(Thread t);

    ProcessedIdStore store() {
        return store(WINDOW, 1_000_000);
    }

    ProcessedIdStore store(Duration window, long maxIds) {
        ProcessedIdStore s = create(window, maxIds, clock);
        stores.add(s);
        return s;
    }

    @AfterEach
    void closeStores() throws InterruptedException {
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
        stores.forEach(ProcessedIdStore::close);
    }

    static byte[] id(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static boolean insertAndCommit(ProcessedIdStore store, String scope, String id, long now) {
        try (StoreTransaction tx = store.begin()) {
            boolean fresh = tx.insertIfAbsent(scope, id(id), now);
            tx.commit();
            return fresh;
        }
    }

    @Test
    void shouldAnswerFreshForANewIdAndDuplicateOnceCommitted() {
        ProcessedIdStore s = store();
        assertTrue(insertAndCommit(s, "app", "order-1", T0));
        assertFalse(insertAndCommit(s, "app", "order-1", T0 + 1));
        assertEquals(1, s.size());
    }

    @Test
    void shouldForgetAnInsertThatWasRolledBack() {
        ProcessedIdStore s = store();
        try (StoreTransaction tx = s.begin()) {
            assertTrue(tx.insertIfAbsent("app", id("order-1"), T0));
            tx.rollback();
        }
        assertTrue(insertAndCommit(s, "app", "order-1", T0), "a rolled-back insert must leave nothing behind");
    }

    @Test
    void shouldRollBackATransactionClosedWithoutCommit() {
        ProcessedIdStore s = store();
        try (StoreTransaction tx = s.begin()) {
            assertTrue(tx.insertIfAbsent("app", id("order-1"), T0));
        }
        assertTrue(insertAndCommit(s, "app", "order-1", T0));
    }

    @Test
    void shouldKeepScopesApart() {
        ProcessedIdStore s = store();
        assertTrue(insertAndCommit(s, "billing", "order-1", T0));
        assertTrue(insertAndCommit(s, "shipping", "order-1", T0), "another application's handler has its own ids");
        assertFalse(insertAndCommit(s, "billing", "order-1", T0));
    }

    @Test
    void shouldCompareIdsByTheirBytes() {
        ProcessedIdStore s = store();
        assertTrue(insertAndCommit(s, "app", "a", T0));
        assertTrue(insertAndCommit(s, "app", "A", T0));
        try (StoreTransaction tx = s.begin()) {
            assertTrue(tx.insertIfAbsent("app", new byte[]{0, (byte) 0xff, 1}, T0));
            assertFalse(tx.insertIfAbsent("app", new byte[]{0, (byte) 0xff, 1}, T0), "same id twice in one tx");
            tx.commit();
        }
        try (StoreTransaction tx = s.begin()) {
            assertFalse(tx.insertIfAbsent("app", new byte[]{0, (byte) 0xff, 1}, T0));
            assertTrue(tx.insertIfAbsent("app", new byte[]{0, (byte) 0xff, 2}, T0));
            tx.commit();
        }
    }

    @Test
    void shouldMakeASecondInsertWaitAndLoseOnceTheFirstCommits() throws Exception {
        ProcessedIdStore s = store();
        StoreTransaction first = s.begin();
        assertTrue(first.insertIfAbsent("app", id("order-1"), T0));
        CompletableFuture<Thread> secondThread = new CompletableFuture<>();
        Future<Boolean> second = threads.submit(() -> {
            secondThread.complete(Thread.currentThread());
            try (StoreTransaction tx = s.begin()) {
                boolean fresh = tx.insertIfAbsent("app", id("order-1"), T0);
                tx.commit();
                return fresh;
            }
        });
        awaitBlocked(secondThread.get(10, TimeUnit.SECONDS));
        assertFalse(second.isDone(), "the second insert must wait for the first transaction");
        first.commit();
        first.close();
        assertFalse(second.get(30, TimeUnit.SECONDS), "the first transaction committed: the second is a duplicate");
    }

    @Test
    void shouldMakeASecondInsertWaitAndWinOnceTheFirstRollsBack() throws Exception {
        ProcessedIdStore s = store();
        StoreTransaction first = s.begin();
        assertTrue(first.insertIfAbsent("app", id("order-1"), T0));
        CompletableFuture<Thread> secondThread = new CompletableFuture<>();
        Future<Boolean> second = threads.submit(() -> {
            secondThread.complete(Thread.currentThread());
            try (StoreTransaction tx = s.begin()) {
                boolean fresh = tx.insertIfAbsent("app", id("order-1"), T0);
                tx.commit();
                return fresh;
            }
        });
        awaitBlocked(secondThread.get(10, TimeUnit.SECONDS));
        first.rollback();
        first.close();
        assertTrue(second.get(30, TimeUnit.SECONDS), "the first transaction rolled back: the second processes it");
        assertFalse(insertAndCommit(s, "app", "order-1", T0));
    }

    @Test
    void shouldLetExactlyOneOfManyRacingTransactionsWin() throws Exception {
        ProcessedIdStore s = store();
        int racers = 8;
        int ids = 50;
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger wins = new AtomicInteger();
        List<Future<?>> done = new ArrayList<>();
        for (int r = 0; r < racers; r++) {
            done.add(threads.submit(() -> {
                start.await();
                for (int i = 0; i < ids; i++) {
                    try (StoreTransaction tx = s.begin()) {
                        if (tx.insertIfAbsent("app", id("order-" + i), T0)) {
                            wins.incrementAndGet();
                        }
                        tx.commit();
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        assertEquals(ids, wins.get(), "each id is fresh for exactly one transaction");
        assertEquals(ids, s.size());
    }

    @Test
    void shouldTreatAnIdAsNewExactlyWhenItsWindowHasPassed() {
        ProcessedIdStore s = store(Duration.ofSeconds(60), 1_000);
        assertTrue(insertAndCommit(s, "app", "order-1", T0));
        assertFalse(insertAndCommit(s, "app", "order-1", T0 + 59_999), "inside the window");
        assertTrue(insertAndCommit(s, "app", "order-1", T0 + 60_000), "the window has passed");
        assertFalse(insertAndCommit(s, "app", "order-1", T0 + 60_001), "re-inserted: a new window");
    }

    @Test
    void shouldPurgeExpiredIdsAndKeepLiveOnes() {
        ProcessedIdStore s = store(Duration.ofSeconds(60), 1_000);
        for (int i = 0; i < 30; i++) {
            assertTrue(insertAndCommit(s, "app", "old-" + i, T0));
        }
        for (int i = 0; i < 20; i++) {
            assertTrue(insertAndCommit(s, "app", "new-" + i, T0 + 30_000));
        }
        clock.advance(60_000);
        assertEquals(30, s.purge());
        assertEquals(20, s.size());
        assertFalse(insertAndCommit(s, "app", "new-7", T0 + 60_000));
        assertTrue(insertAndCommit(s, "app", "old-7", T0 + 60_000));
    }

    @Test
    void shouldKeepNoMoreThanTheBoundAndEvictTheOldestFirst() {
        ProcessedIdStore s = store(WINDOW, 100);
        for (int i = 0; i < 150; i++) {
            assertTrue(insertAndCommit(s, "app", "order-" + i, T0 + i));
        }
        s.purge(); // JDBC enforces the bound here; memory at every commit
        assertTrue(s.size() <= 100, "size " + s.size() + " over the bound");
        assertTrue(s.size() >= 99, "evicted more than needed: " + s.size());
        assertFalse(insertAndCommit(s, "app", "order-149", T0 + 200), "the newest stay");
        assertTrue(insertAndCommit(s, "app", "order-0", T0 + 200), "the oldest went first");
    }

    @Test
    void shouldRefuseEmptyOrOversizedKeysAndScopes() {
        ProcessedIdStore s = store();
        try (StoreTransaction tx = s.begin()) {
            assertThrows(IllegalArgumentException.class, () -> tx.insertIfAbsent("app", new byte[0], T0));
            assertThrows(IllegalArgumentException.class,
                () -> tx.insertIfAbsent("app", new byte[KeyExtractor.MAX_KEY_BYTES + 1], T0));
            assertThrows(IllegalArgumentException.class, () -> tx.insertIfAbsent("", id("x"), T0));
            assertThrows(IllegalArgumentException.class, () -> tx.insertIfAbsent("s".repeat(256), id("x"), T0));
            assertTrue(tx.insertIfAbsent("s".repeat(255), new byte[KeyExtractor.MAX_KEY_BYTES], T0));
            tx.commit();
        }
    }

    @Test
    void shouldRefuseUseAfterTheEnd() {
        ProcessedIdStore s = store();
        StoreTransaction tx = s.begin();
        tx.commit();
        assertThrows(IllegalStateException.class, () -> tx.insertIfAbsent("app", id("x"), T0));
        tx.rollback(); // harmless
        tx.close();
    }

    /** Await for stores whose waiting thread parks in Java (the memory store). */
    static void awaitParked(Thread t) {
        Await.until(() -> "thread " + t.getName() + " waiting; it is " + t.getState() + " at "
                + java.util.Arrays.toString(t.getStackTrace()), Duration.ofSeconds(10),
            () -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
    }
}
