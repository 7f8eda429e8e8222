package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.state.ProducerSnapshotFile;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Durability: the high watermark and the acks=all callbacks move only after an fsync that covers them. */
class GroupCommitTest {
    @TempDir
    Path dir;
    LogFixture log;

    @BeforeEach
    void setUp() throws IOException {
        log = new LogFixture(dir, new TestConfig());
    }

    @AfterEach
    void tearDown() throws IOException {
        log.close();
    }

    @Test
    void callbacksCompleteInOffsetOrderOnlyAfterTheFsync() {
        PartitionLog p = log.partition();
        log.appendOk(Batches.plain(2, 1L));
        log.appendOk(Batches.plain(3, 1L));
        log.appendOk(Batches.plain(1, 1L));
        List<Long> completed = Collections.synchronizedList(new ArrayList<>());
        for (long offset : new long[] {5L, 1L, 4L, 0L}) {
            p.whenDurable(offset, e -> {
                assertEquals(ErrorCode.NONE, e);
                completed.add(offset);
            });
        }
        assertEquals(List.of(), completed);
        assertEquals(0L, p.highWatermark());
        assertEquals(6L, p.logEndOffset());

        assertEquals(1, log.store.flushOnce());
        assertEquals(List.of(0L, 1L, 4L, 5L), completed);
        assertEquals(6L, p.highWatermark());
        assertEquals(1, log.highWatermarks.size());
        assertArrayEquals(new long[] {0L, 6L}, log.highWatermarks.get(0));
    }

    @Test
    void theHighWatermarkHasNotMovedWhenTheFsyncStarts() {
        PartitionLog p = log.partition();
        log.appendOk(Batches.plain(2, 1L));
        List<Long> seenAtFsync = new ArrayList<>();
        log.io.beforeForce = () -> seenAtFsync.add(p.highWatermark());
        log.store.flushOnce();
        assertEquals(List.of(0L), seenAtFsync);
        assertEquals(2L, p.highWatermark());
    }

    @Test
    void oneFsyncCoversEveryBatchAppendedBeforeTheRound() {
        for (int i = 0; i < 100; i++) {
            log.appendOk(Batches.plain(1, 1L));
        }
        int before = log.io.forces;
        log.store.flushOnce();
        assertEquals(before + 1, log.io.forces);
        assertEquals(100L, log.partition().highWatermark());
        assertEquals(0, log.store.flushOnce(), "nothing left to flush");
    }

    @Test
    void aPartitionQueuedTwiceInOneRoundIsFlushedOnceAndTheRoundCompletes() throws Exception {
        // The race seen under load: the flusher polls the partition and clears its dirty flag, an append marks it
        // dirty again and queues it a second time, and the same drain polls it again.
        log.store.createTopic("other", 1);
        PartitionLog p = log.partition();
        PartitionLog q = log.store.partitionLog("other", 0);
        log.appendOk(Batches.plain(2, 1L));
        p.clearDirty();
        log.appendOk(Batches.plain(3, 1L));
        q.append(Batches.plain(4, 1L), 0, Batches.plain(4, 1L).limit());
        List<Long> completed = Collections.synchronizedList(new ArrayList<>());
        p.whenDurable(4L, e -> completed.add(4L));
        q.whenDurable(3L, e -> completed.add(103L));
        int before = log.io.forces;
        log.store.flushOnce();
        assertEquals(5L, p.highWatermark());
        assertEquals(4L, q.highWatermark(), "the other partition of the round is not starved");
        assertEquals(List.of(4L, 103L), completed);
        assertEquals(before + 2, log.io.forces, "one fsync per partition per round");
    }

    @Test
    void anAppendWhoseThreadFlushesItselfIsDurableWithoutAFlusherRound() {
        PartitionLog p = log.partition();
        ByteBuffer b = Batches.plain(2, 1L);
        assertEquals(ErrorCode.NONE, p.append(b, 0, b.limit(), FlushDuty.CALLER).error());
        List<Long> completed = new ArrayList<>();
        p.whenDurable(1L, e -> completed.add(1L));
        assertEquals(0L, p.highWatermark());
        int before = log.io.forces;
        p.flushNow();
        assertEquals(2L, p.highWatermark());
        assertEquals(List.of(1L), completed, "completed on the calling thread");
        assertEquals(before + 1, log.io.forces);
        assertEquals(0, log.store.flushOnce(), "the flusher finds nothing left to do");
    }

    /** Before: logged only, with no counter. */
    @Test
    void aCallbackThatThrowsIsCountedAndTheOthersStillComplete() {
        PartitionLog p = log.partition();
        log.appendOk(Batches.plain(3, 1L));
        List<Long> completed = new ArrayList<>();
        p.whenDurable(0L, e -> {
            throw new IllegalStateException("a bug in a callback");
        });
        p.whenDurable(2L, e -> completed.add(2L));
        log.store.flushOnce();
        assertEquals(List.of(2L), completed);
        assertEquals(1L, log.store.metrics().callbackFailures.sum());
        assertEquals(1L, log.store.metrics().snapshot().get("storage.callback_failures"));
    }

    /** Before: the exception went up into the network thread's read burst and the waiter was left pending. */
    @Test
    void aBugInARequestThreadsFlushFailsTheWaitersAndTakesThePartitionOffline() {
        PartitionLog p = log.partition();
        ByteBuffer b = Batches.plain(2, 1L);
        assertEquals(ErrorCode.NONE, p.append(b, 0, b.limit(), FlushDuty.CALLER).error());
        List<ErrorCode> answers = new ArrayList<>();
        p.whenDurable(1L, answers::add);
        log.io.beforeForce = () -> {
            throw new IllegalStateException("injected bug");
        };
        p.flushNow();
        log.io.beforeForce = () -> { };
        assertEquals(List.of(ErrorCode.KAFKA_STORAGE_ERROR), answers);
        assertEquals(PartitionLog.State.OFFLINE, p.state());
        assertEquals(1L, log.store.metrics().flusherFailures.sum());
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, log.append(Batches.plain(1, 1L)).error());
    }

    @Test
    void anAppendWhoseThreadNeverFlushesIsStillMadeDurableByTheFlusher() {
        PartitionLog p = log.partition();
        ByteBuffer b = Batches.plain(3, 1L);
        assertEquals(ErrorCode.NONE, p.append(b, 0, b.limit(), FlushDuty.CALLER).error());
        assertEquals(1, log.store.flushOnce(), "queued for the flusher even though it was not woken");
        assertEquals(3L, p.highWatermark());
    }

    @Test
    void aBatchAppendedDuringAnFsyncIsCoveredByTheNextRound() {
        PartitionLog p = log.partition();
        log.appendOk(Batches.plain(2, 1L));
        log.io.beforeForce = () -> {
            log.io.beforeForce = () -> { };
            log.appendOk(Batches.plain(3, 1L));
        };
        log.store.flushOnce();
        assertEquals(2L, p.highWatermark(), "the racing batch was not in the round's snapshot");
        assertEquals(1, log.store.flushOnce());
        assertEquals(5L, p.highWatermark());
    }

    @Test
    void anAlreadyDurableOffsetCompletesAtOnceOnTheCallingThread() {
        log.appendDurable(Batches.plain(2, 1L));
        Thread[] thread = new Thread[1];
        log.partition().whenDurable(1L, e -> thread[0] = Thread.currentThread());
        assertEquals(Thread.currentThread(), thread[0]);
    }

    @Test
    void aRollRunsNoFsyncOnTheAppendingThreadAndTheHighWatermarkWaitsForItsSeal() throws IOException {
        log.close();
        TestConfig config = new TestConfig();
        config.segmentBytes = 300;
        log = new LogFixture(dir.resolve("roll"), config);
        PartitionLog p = log.partition();
        log.appendOk(Batches.withValueSize(-1L, -1, -1, 2, 1L, 100));
        int forces = log.io.forces;
        log.appendOk(Batches.withValueSize(-1L, -1, -1, 2, 1L, 100));
        assertEquals(2, p.segments().length);
        assertEquals(forces, log.io.forces, "the roll left every fsync to the storage thread");
        assertTrue(Files.exists(LogFiles.pendingLogFile(log.partitionDir(), 2L)), "named pending until sealed");
        assertEquals(1, p.pendingSeals());

        // a group commit makes the new segment's bytes durable, but not the roll: the old segment's tail and the new
        // file's directory entry are not yet, so the high watermark stops at the old segment's fsync'd end
        log.store.commitOnce();
        assertEquals(0L, p.highWatermark(), "nothing of the old segment was fsync'd before the roll");
        List<ErrorCode> answers = new ArrayList<>();
        p.whenDurable(3L, answers::add);
        assertEquals(List.of(), answers);

        // the seal: old segment fsync'd, index, snapshot, rename, directory fsync; then the watermark passes
        log.io.beforeForce = () -> assertEquals(0L, p.highWatermark(), "the watermark moved before the seal");
        log.store.sealOnce();
        log.io.beforeForce = () -> { };
        assertEquals(0, p.pendingSeals());
        assertEquals(4L, p.highWatermark());
        assertEquals(List.of(ErrorCode.NONE), answers);
        assertTrue(Files.exists(LogFiles.logFile(log.partitionDir(), 2L)));
        assertTrue(Files.exists(LogFiles.indexFile(log.partitionDir(), 0L)));
        assertTrue(Files.exists(ProducerSnapshotFile.path(log.partitionDir(), 2L)));
    }

    @Test
    void aFailedSealTakesThePartitionOfflineAndFailsWhatWaitsOnIt() throws IOException {
        log.close();
        TestConfig config = new TestConfig();
        config.segmentBytes = 300;
        log = new LogFixture(dir.resolve("seal-fails"), config);
        PartitionLog p = log.partition();
        log.appendOk(Batches.withValueSize(-1L, -1, -1, 2, 1L, 100));
        log.appendOk(Batches.withValueSize(-1L, -1, -1, 2, 1L, 100));
        List<ErrorCode> answers = new ArrayList<>();
        p.whenDurable(3L, answers::add);
        log.io.failForces = true;
        log.store.sealOnce();
        assertEquals(List.of(ErrorCode.KAFKA_STORAGE_ERROR), answers);
        assertEquals(PartitionLog.State.OFFLINE, p.state());
        assertEquals(1L, log.store.metrics().storageErrors.sum());
        log.io.failForces = false;
    }

    @Test
    void durabilityIsAdvancedOnlyByTheCommitLockHolder() {
        PartitionLog p = log.partition();
        log.appendOk(Batches.plain(1, 1L));
        DurabilityTracker tracker = new DurabilityTracker(0L, new java.util.concurrent.locks.ReentrantLock());
        assertThrows(IllegalStateException.class, () -> tracker.advanceTo(1L));
        assertThrows(IllegalStateException.class, tracker::fail);
        log.store.flushOnce();
        assertEquals(1L, p.highWatermark());
    }

    @Test
    void aFailedFsyncFailsTheWaitingCallbacksAndTakesThePartitionOffline() {
        PartitionLog p = log.partition();
        log.appendDurable(Batches.plain(1, 1L));
        log.appendOk(Batches.plain(2, 1L));
        List<ErrorCode> answers = new ArrayList<>();
        p.whenDurable(2L, answers::add);
        log.io.failForces = true;
        log.store.flushOnce();
        assertEquals(List.of(ErrorCode.KAFKA_STORAGE_ERROR), answers);
        assertEquals(1L, p.highWatermark(), "never reported durable");
        assertEquals(PartitionLog.State.OFFLINE, p.state());
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, log.append(Batches.plain(1, 1L)).error());
        p.whenDurable(2L, answers::add);
        p.whenDurable(0L, answers::add);
        assertEquals(List.of(ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.NONE), answers);
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, p.read(0L, 1000).error());
    }

    @Test
    void aFailedWriteRecordsNothingAndTakesThePartitionOffline() throws IOException {
        ByteBuffer first = Batches.idempotent(1L, 0, 0, 2);
        log.appendDurable(Batches.copy(first));
        ByteBuffer second = Batches.idempotent(1L, 0, 2, 2);
        List<ErrorCode> answers = new ArrayList<>();
        log.partition().whenDurable(5L, answers::add);
        log.io.tearNextWriteAfter = 20;
        AppendResult failed = log.append(Batches.copy(second));
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, failed.error());
        assertEquals(2L, log.partition().logEndOffset());
        log.store.flushOnce(); // the append woke the flusher, the commit-lock holder, to fail the waiters
        assertEquals(List.of(ErrorCode.KAFKA_STORAGE_ERROR), answers);
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, log.append(Batches.idempotent(1L, 0, 2, 2)).error());

        // after a restart the batch is not a duplicate (the sequence never advanced): its retry goes in at offset 2
        log.crashAndReopen();
        assertEquals(2L, log.partition().logEndOffset());
        assertTrue(log.append(Batches.copy(first)).duplicate());
        assertEquals(2L, log.appendOk(Batches.copy(second)).baseOffset());
    }

    @Test
    void theFlusherThreadCompletesCallbacksWithoutBeingDriven() throws Exception {
        Path dataDir = dir.resolve("background");
        ConcurrentHashMap<Integer, AtomicLong> watermarks = new ConcurrentHashMap<>();
        try (LogManager store = LogManager.open(dataDir, new TestConfig().build(), SystemEpochClock.INSTANCE,
            (partition, hw) -> watermarks.computeIfAbsent(partition.index(), i -> new AtomicLong()).set(hw))) {
            store.createTopic("t", 4);
            int threads = 4;
            int perThread = 200;
            CountDownLatch done = new CountDownLatch(threads * perThread);
            List<String> problems = Collections.synchronizedList(new ArrayList<>());
            List<Thread> appenders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Partition partition = store.partition("t", t);
                Thread thread = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        ByteBuffer batch = Batches.idempotent(partition.index(), 0, i, 1);
                        AppendResult r = partition.append(batch, 0, batch.limit());
                        if (r.error() != ErrorCode.NONE) {
                            problems.add(r.toString());
                        }
                        long offset = r.lastOffset();
                        partition.whenDurable(offset, e -> {
                            if (e != ErrorCode.NONE || offset >= partition.highWatermark()) {
                                problems.add("partition " + partition.index() + " offset " + offset + ": " + e);
                            }
                            done.countDown();
                        });
                    }
                });
                appenders.add(thread);
                thread.start();
            }
            for (Thread thread : appenders) {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            }
            assertTrue(done.await(30, TimeUnit.SECONDS), "callbacks still waiting: " + done.getCount());
            assertEquals(List.of(), problems);
            for (int t = 0; t < threads; t++) {
                int index = t;
                assertEquals(perThread, store.partition("t", t).highWatermark());
                Await.until(() -> watermarks.containsKey(index) && watermarks.get(index).get() == perThread, 10_000,
                    "the listener to see partition " + t + " at " + perThread);
            }
        }
    }
}
