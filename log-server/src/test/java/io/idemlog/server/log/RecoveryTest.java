package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.ProducerSnapshotFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Restart after a clean close and after a crash (no close; the tail of the last segment torn, zeroed or garbage):
 * the log is cut at the last whole valid batch, appends continue at the right offset, and the producer state is
 * what the surviving log says, so a re-sent batch is answered as a duplicate with its ORIGINAL offset.
 */
class RecoveryTest {
    @TempDir
    Path dir;
    LogFixture log;

    @AfterEach
    void tearDown() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private LogFixture open(TestConfig config) throws IOException {
        log = new LogFixture(dir, config);
        return log;
    }

    private Path activeLogFile() {
        LogSegment[] segments = log.partition().segments();
        return LogFiles.logFile(log.partitionDir(), segments[segments.length - 1].baseOffset);
    }

    /** Crashes, lets {@code damage} change the active segment file, and reopens. */
    private void crashDamageAndReopen(FileDamage damage) throws IOException {
        Path file = activeLogFile();
        log.store.abandon();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            damage.apply(channel);
        }
        log.open();
    }

    @FunctionalInterface
    interface FileDamage {
        void apply(FileChannel channel) throws IOException;
    }

    /** Appends 3 idempotent batches of 2 records (offsets 0-5) and returns copies of what was sent. */
    private List<ByteBuffer> appendThree() {
        List<ByteBuffer> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ByteBuffer b = Batches.idempotent(9L, 0, 2 * i, 2);
            sent.add(Batches.copy(b));
            log.appendOk(b);
        }
        log.store.flushOnce();
        return sent;
    }

    @Test
    void aTornLastBatchIsCutAndAppendsContinueAtTheRightOffset() throws IOException {
        open(new TestConfig());
        List<ByteBuffer> sent = appendThree();
        long size = Files.size(activeLogFile());
        crashDamageAndReopen(ch -> ch.truncate(size - 5));
        PartitionLog p = log.partition();
        assertEquals(4L, p.logEndOffset());
        assertEquals(4L, p.highWatermark(), "what survived a restart is durable");
        assertEquals(size - sent.get(2).limit(), Files.size(activeLogFile()));
        // the lost batch is not a duplicate: its retry goes in again, at the offset it had
        assertEquals(4L, log.appendOk(Batches.copy(sent.get(2))).baseOffset());
        assertEquals(6L, log.appendOk(Batches.idempotent(9L, 0, 6, 1)).baseOffset());
    }

    @Test
    void garbageAfterTheLastBatchIsCut() throws IOException {
        open(new TestConfig());
        appendThree();
        long size = Files.size(activeLogFile());
        byte[] garbage = new byte[777];
        new Random(5L).nextBytes(garbage);
        crashDamageAndReopen(ch -> ch.write(ByteBuffer.wrap(garbage), size));
        assertEquals(6L, log.partition().logEndOffset());
        assertEquals(size, Files.size(activeLogFile()));
        assertEquals(6L, log.appendOk(Batches.plain(1, 1L)).baseOffset());
    }

    @Test
    void zeroesAfterTheLastBatchAreCut() throws IOException {
        open(new TestConfig());
        appendThree();
        long size = Files.size(activeLogFile());
        crashDamageAndReopen(ch -> ch.write(ByteBuffer.allocate(4096), size));
        assertEquals(6L, log.partition().logEndOffset());
        assertEquals(size, Files.size(activeLogFile()));
    }

    @Test
    void aBadCrcInTheMiddleCutsEverythingFromThatBatchOn() throws IOException {
        open(new TestConfig());
        List<ByteBuffer> sent = appendThree();
        int second = sent.get(0).limit();
        crashDamageAndReopen(ch -> ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xAB}), second + 70));
        assertEquals(2L, log.partition().logEndOffset());
        assertEquals(second, Files.size(activeLogFile()));
    }

    @Test
    void aBatchWithAnOffsetThatDoesNotFollowIsCut() throws IOException {
        open(new TestConfig());
        List<ByteBuffer> sent = appendThree();
        int third = sent.get(0).limit() + sent.get(1).limit();
        // baseOffset is outside the CRC: only the contiguity check can catch this
        crashDamageAndReopen(ch -> ch.write(ByteBuffer.allocate(8).putLong(0, 77L), third));
        assertEquals(4L, log.partition().logEndOffset());
    }

    @Test
    void afterACleanCloseAResentBatchIsADuplicateWithItsOriginalOffsetWithoutReplay() throws IOException {
        open(new TestConfig());
        List<ByteBuffer> sent = appendThree();
        log.reopen();
        assertTrue(Files.exists(ProducerSnapshotFile.path(log.partitionDir(), 6L)), "snapshot at the log end");
        for (int i = 0; i < 3; i++) {
            assertEquals(AppendResult.duplicate(2L * i, 2L * i + 1), log.append(Batches.copy(sent.get(i))));
        }
        assertEquals(6L, log.partition().logEndOffset());
    }

    @Test
    void afterACrashAResentBatchThatSurvivedIsADuplicateWithItsOriginalOffset() throws IOException {
        open(new TestConfig());
        List<ByteBuffer> sent = appendThree();
        long size = Files.size(activeLogFile());
        crashDamageAndReopen(ch -> ch.truncate(size - 1));
        assertEquals(AppendResult.duplicate(0L, 1L), log.append(Batches.copy(sent.get(0))));
        assertEquals(AppendResult.duplicate(2L, 3L), log.append(Batches.copy(sent.get(1))));
        assertFalse(log.append(Batches.copy(sent.get(2))).duplicate(), "the torn batch is gone");
    }

    @Test
    void aCrashWithoutAnyFsyncStillRecoversWhatThePageCacheKept() throws IOException {
        open(new TestConfig());
        ByteBuffer b = Batches.idempotent(9L, 0, 0, 2);
        log.appendOk(Batches.copy(b));
        assertEquals(0L, log.partition().highWatermark());
        log.crashAndReopen();
        assertEquals(2L, log.partition().highWatermark());
        assertEquals(AppendResult.duplicate(0L, 1L), log.append(Batches.copy(b)));
    }

    @Test
    void theWholeWindowOfFiveSurvivesASnapshotAndAReplayAfterIt() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 400;
        open(config);
        List<ByteBuffer> sent = new ArrayList<>();
        // 5 batches of producer 9, each in its own segment (each roll writes a snapshot), then 2 more after the
        // last roll: the newest snapshot holds some of the window, replay adds the rest
        for (int i = 0; i < 7; i++) {
            ByteBuffer b = Batches.withValueSize(9L, 0, 2 * i, 2, 1000L, 100);
            sent.add(Batches.copy(b));
            log.appendOk(b);
        }
        log.store.flushOnce();
        assertTrue(ProducerSnapshotFile.list(log.partitionDir()).length > 0);
        log.crashAndReopen();
        // outside the window of five, found in the log
        assertEquals(AppendResult.duplicate(2L, 3L), log.append(Batches.copy(sent.get(1))));
        for (int i = 2; i < 7; i++) {
            assertEquals(AppendResult.duplicate(2L * i, 2L * i + 1), log.append(Batches.copy(sent.get(i))),
                "batch " + i);
        }
    }

    @Test
    void aDamagedNewestSnapshotFallsBackToAnOlderOneAndReplay() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 400;
        open(config);
        List<ByteBuffer> sent = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ByteBuffer b = Batches.withValueSize(9L, 0, 2 * i, 2, 1000L, 100);
            sent.add(Batches.copy(b));
            log.appendOk(b);
        }
        log.store.flushOnce();
        long[] snapshots = ProducerSnapshotFile.list(log.partitionDir());
        Path newest = ProducerSnapshotFile.path(log.partitionDir(), snapshots[snapshots.length - 1]);
        log.store.abandon();
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(newest, bytes);
        log.open();
        assertFalse(Files.exists(newest), "a damaged snapshot is deleted");
        for (int i = 1; i < 6; i++) {
            assertEquals(AppendResult.duplicate(2L * i, 2L * i + 1), log.append(Batches.copy(sent.get(i))));
        }
    }

    @Test
    void withEverySnapshotDamagedTheStateIsReplayedFromTheWholeLog() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 400;
        open(config);
        List<ByteBuffer> sent = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ByteBuffer b = Batches.withValueSize(9L, 0, 2 * i, 2, 1000L, 100);
            sent.add(Batches.copy(b));
            log.appendOk(b);
        }
        log.store.abandon();
        for (long offset : ProducerSnapshotFile.list(log.partitionDir())) {
            Files.write(ProducerSnapshotFile.path(log.partitionDir(), offset), new byte[] {1, 2, 3});
        }
        log.open();
        assertEquals(0, ProducerSnapshotFile.list(log.partitionDir()).length);
        for (int i = 0; i < 4; i++) {
            assertEquals(AppendResult.duplicate(2L * i, 2L * i + 1), log.append(Batches.copy(sent.get(i))));
        }
    }

    @Test
    void aSnapshotAboveTheRecoveredLogEndIsDeletedAndNotUsed() throws IOException {
        open(new TestConfig());
        List<ByteBuffer> sent = appendThree();
        log.reopen(); // snapshot at 6
        long size = Files.size(activeLogFile());
        crashDamageAndReopen(ch -> ch.truncate(size - sent.get(2).limit()));
        assertEquals(4L, log.partition().logEndOffset());
        assertFalse(Files.exists(ProducerSnapshotFile.path(log.partitionDir(), 6L)));
        // the state describes offsets 0-3 only: batch 3 is accepted again rather than called a duplicate of a
        // batch that no longer exists
        assertEquals(4L, log.appendOk(Batches.copy(sent.get(2))).baseOffset());
    }

    @Test
    void readsWorkAfterTheIndexIsRebuilt() throws IOException {
        TestConfig config = new TestConfig();
        config.indexIntervalBytes = 100;
        config.segmentBytes = 2000;
        open(config);
        for (int i = 0; i < 40; i++) {
            log.appendOk(Batches.withValueSize(-1L, -1, -1, 1 + i % 3, 1000L + i, 30));
        }
        log.store.flushOnce();
        long hw = log.partition().highWatermark();
        List<long[]> before = new ArrayList<>();
        for (long offset = 0; offset < hw; offset++) {
            ReadResult r = log.partition().read(offset, 500);
            before.add(new long[] {r.position(), r.size()});
        }
        // crash; also lose a sealed segment's index file: it is rebuilt from the log
        log.store.abandon();
        Files.delete(LogFiles.indexFile(log.partitionDir(), 0L));
        log.open();
        assertTrue(Files.exists(LogFiles.indexFile(log.partitionDir(), 0L)));
        assertTrue(log.partition().segments()[0].index().count() > 5, "rebuilt with the configured interval");
        for (long offset = 0; offset < hw; offset++) {
            ReadResult r = log.partition().read(offset, 500);
            assertArrayEquals(before.get((int) offset), new long[] {r.position(), r.size()}, "offset " + offset);
        }
    }

    @Test
    void anImplausibleSealedIndexIsRebuilt() throws IOException {
        TestConfig config = new TestConfig();
        config.indexIntervalBytes = 100;
        config.segmentBytes = 1000;
        open(config);
        for (int i = 0; i < 20; i++) {
            log.appendOk(Batches.withValueSize(-1L, -1, -1, 2, 1000L + i, 30));
        }
        log.store.flushOnce();
        ReadResult good = log.partition().read(5L, 100);
        log.store.abandon();
        Files.write(LogFiles.indexFile(log.partitionDir(), 0L), new byte[] {0, 0, 0, 9, 0, 0, 0, 1});
        log.open();
        ReadResult again = log.partition().read(5L, 100);
        assertEquals(good.position(), again.position());
        assertEquals(good.size(), again.size());
    }

    @Test
    void aDamagedSealedSegmentRefusesToOpenRatherThanLoseData() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 400;
        open(config);
        for (int i = 0; i < 3; i++) {
            log.appendOk(Batches.withValueSize(-1L, -1, -1, 2, 1000L, 100));
        }
        log.store.flushOnce(); // the rolls' seals are durable: segment 0 is sealed
        log.store.abandon();
        Path sealed = LogFiles.logFile(log.partitionDir(), 0L);
        try (FileChannel ch = FileChannel.open(sealed, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 3);
        }
        IOException refused = assertThrows(IOException.class, log::open);
        assertTrue(refused.getMessage().contains(sealed.toString()), refused.getMessage());
        log = null;
    }

    @Test
    void leftoverFilesOfUnfinishedOperationsAreRemoved() throws IOException {
        open(new TestConfig());
        appendThree();
        log.store.abandon();
        Path dirPath = log.partitionDir();
        Files.write(dirPath.resolve("00000000000000000000.log.deleted"), new byte[10]);
        Files.write(dirPath.resolve("00000000000000000006.snapshot.tmp"), new byte[10]);
        log.open();
        assertFalse(Files.exists(dirPath.resolve("00000000000000000000.log.deleted")));
        assertFalse(Files.exists(dirPath.resolve("00000000000000000006.snapshot.tmp")));
        assertEquals(6L, log.partition().logEndOffset());
    }

    @Test
    void producerLastWriteTimesSurviveACleanRestart() throws IOException {
        open(new TestConfig());
        ByteBuffer b = Batches.idempotent(9L, 0, 0, 1);
        log.appendDurable(Batches.copy(b));
        long written = log.clock.time();
        log.reopen();
        log.clock.update(written + log.config.producerIdExpirationMs());
        log.store.runMaintenance();
        assertEquals(0, log.partition().producerCount(), "expired by the time of its write before the restart");
    }

    @Test
    void recoveredBatchesKeepTheirBytes() throws IOException {
        open(new TestConfig());
        appendThree();
        byte[] before = Files.readAllBytes(activeLogFile());
        log.crashAndReopen();
        assertArrayEquals(before, Files.readAllBytes(activeLogFile()));
        RecordBatch batch = new RecordBatch(ByteBuffer.wrap(before), 0);
        assertTrue(batch.isCrcValid());
    }
}
