package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.LogStartOffsetFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeleteRecords at the store: the log start offset moves (durably, before the call returns), nothing below it is
 * served (reads, timestamp lookups), the segments entirely below it are removed after the delete delay, the value
 * survives a clean restart and a crash, a damaged file refuses to open naming it, and the producer state is kept (a
 * retry of a batch now below the start is still a duplicate).
 */
class DeleteRecordsTest {
    private static final long PID = 7L;

    @TempDir
    Path dir;
    LogFixture log;

    @AfterEach
    void tearDown() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    /** 10 idempotent batches of 2 records (~300 bytes each) in segments of 1000 bytes: offsets 0..19. */
    private void fill() throws IOException {
        fill(new TestConfig());
    }

    private void fill(TestConfig config) throws IOException {
        config.segmentBytes = 1000;
        config.fileDeleteDelayMs = 60_000L;
        log = new LogFixture(dir, config);
        for (int i = 0; i < 10; i++) {
            log.appendOk(batch(i));
        }
        log.store.flushOnce();
        assertEquals(20L, log.partition().highWatermark());
        assertTrue(log.partition().segments().length >= 4, "segments: " + log.partition().segments().length);
    }

    private ByteBuffer batch(int i) {
        return Batches.withValueSize(PID, 0, 2 * i, 2, 1_700_000_000_000L + 10L * i, 100); // the fixture clock
    }

    private long[] segmentBases() {
        return Stream.of(log.partition().segments()).mapToLong(s -> s.baseOffset).toArray();
    }

    private long filesEndingWith(String suffix) throws IOException {
        try (Stream<Path> s = Files.list(log.partitionDir())) {
            return s.filter(f -> f.getFileName().toString().endsWith(suffix)).count();
        }
    }

    @Test
    void recordsBelowTheNewStartAreNoLongerServedAndWholeSegmentsBelowItGo() throws IOException, AdminException {
        fill();
        long[] bases = segmentBases();
        long target = bases[2] + 1; // inside the third segment
        long logsBefore = filesEndingWith(".log");
        assertEquals(target, log.store.deleteRecords(LogFixture.TOPIC, 0, target));
        PartitionLog p = log.partition();
        assertEquals(target, p.logStartOffset());
        assertEquals(target, LogStartOffsetFile.readIfExists(log.partitionDir()), "durable before the answer");
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, p.read(target - 1, 1 << 20).error());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, p.read(0, 1 << 20).error());
        ReadResult at = p.read(target, 1 << 20);
        assertEquals(ErrorCode.NONE, at.error());
        assertTrue(at.size() > 0);
        assertEquals(target, at.logStartOffset(), "the Fetch answer's log_start_offset");
        // the first two segments are entirely below: renamed now, deleted after the delay; the third holds target
        assertEquals(bases[2], p.segments()[0].baseOffset);
        assertEquals(logsBefore - 2, filesEndingWith(".log"));
        assertEquals(2, filesEndingWith(".log.deleted"));
        log.store.runMaintenance();
        assertEquals(2, filesEndingWith(".log.deleted"), "kept for fetches in flight until the delete delay");
        log.clock.advance(60_000L);
        log.store.runMaintenance();
        assertEquals(0, filesEndingWith(".deleted"));
        // the timestamp lookup answers nothing below the start: record 0 (the oldest timestamp) is deleted
        long[] found = p.offsetForTimestamp(0L);
        assertEquals(target, found[0]);
        // produce continues at the right offsets
        AppendResult next = log.appendOk(batch(10));
        assertEquals(20L, next.baseOffset());
    }

    @Test
    void minusOneIsTheHighWatermarkAboveItIsOutOfRangeAndBelowTheStartChangesNothing() throws Exception {
        fill();
        log.appendOk(batch(10)); // appended, not yet durable: the high watermark stays at 20
        assertEquals(20L, log.partition().highWatermark());
        AdminException above = assertThrows(AdminException.class,
            () -> log.store.deleteRecords(LogFixture.TOPIC, 0, 21L));
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, above.error());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, assertThrows(AdminException.class,
            () -> log.store.deleteRecords(LogFixture.TOPIC, 0, -2L)).error());
        assertEquals(-1L, LogStartOffsetFile.readIfExists(log.partitionDir()), "nothing written for a refusal");
        assertEquals(5L, log.store.deleteRecords(LogFixture.TOPIC, 0, 5L));
        assertEquals(5L, log.store.deleteRecords(LogFixture.TOPIC, 0, 3L), "below the start: the current one");
        assertEquals(5L, LogStartOffsetFile.readIfExists(log.partitionDir()));
        assertEquals(20L, log.store.deleteRecords(LogFixture.TOPIC, 0, -1L), "-1: the high watermark");
        assertEquals(ErrorCode.NONE, log.partition().read(20L, 1 << 20).error());
        assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, assertThrows(AdminException.class,
            () -> log.store.deleteRecords(LogFixture.TOPIC, 1, 0L)).error());
        assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, assertThrows(AdminException.class,
            () -> log.store.deleteRecords("nope", 0, 0L)).error());
    }

    @Test
    void theStartSurvivesACleanRestartAndACrash() throws Exception {
        fill();
        long target = segmentBases()[1] + 1;
        log.store.deleteRecords(LogFixture.TOPIC, 0, target);
        log.reopen();
        assertEquals(target, log.partition().logStartOffset());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, log.partition().read(target - 1, 1 << 20).error());
        long target2 = segmentBases()[1] + 1;
        log.store.deleteRecords(LogFixture.TOPIC, 0, target2);
        log.crashAndReopen();
        assertEquals(target2, log.partition().logStartOffset());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, log.partition().read(target2 - 1, 1 << 20).error());
        assertEquals(20L, log.appendDurable(batch(10)).baseOffset(), "produce continues at the log end");
        assertEquals(22L, log.partition().highWatermark());
    }

    @Test
    void segmentsEntirelyBelowAStoredStartAreRemovedAtOpen() throws Exception {
        // The file is written before the segments are renamed: a crash in between leaves them, open removes them.
        fill();
        long[] bases = segmentBases();
        log.store.close();
        LogStartOffsetFile.write(log.partitionDir(), bases[3]);
        log.open();
        assertEquals(bases[3], log.partition().logStartOffset());
        assertEquals(bases[3], log.partition().segments()[0].baseOffset);
        assertFalse(Files.exists(LogFiles.logFile(log.partitionDir(), bases[0])));
        assertFalse(Files.exists(LogFiles.logFile(log.partitionDir(), bases[2])));
    }

    @Test
    void aDamagedFileRefusesToOpenNamingItAndAMissingOneStartsAtTheFirstSegment() throws Exception {
        fill();
        log.store.deleteRecords(LogFixture.TOPIC, 0, 3L);
        log.store.close();
        Path file = LogStartOffsetFile.path(log.partitionDir());
        byte[] bytes = Files.readAllBytes(file);
        bytes[12] ^= 0x01; // a flipped bit in the offset: the CRC catches it
        Files.write(file, bytes);
        CorruptFileException e = assertThrows(CorruptFileException.class, log::open);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        Files.write(file, new byte[] {1, 2, 3});
        e = assertThrows(CorruptFileException.class, log::open);
        assertTrue(e.getMessage().contains("log-start-offset"), e.getMessage());
        Files.delete(file);
        log.open();
        assertEquals(0L, log.partition().logStartOffset(), "no file: the log starts at its first segment");
    }

    @Test
    void aRetryOfABatchNowBelowTheStartIsStillADuplicate() throws Exception {
        fill();
        long target = segmentBases()[2];
        log.store.deleteRecords(LogFixture.TOPIC, 0, target);
        log.clock.advance(60_000L);
        log.store.runMaintenance();
        assertFalse(Files.exists(LogFiles.logFile(log.partitionDir(), 0L)), "batch 0's segment is gone");
        // The producer's last 5 batches (sequences 10..19, offsets 10..19) are its duplicate window; batch 5 is
        // the oldest of them. Advance past it too:
        log.store.deleteRecords(LogFixture.TOPIC, 0, 12L);
        AppendResult retry = log.append(batch(5));
        assertEquals(ErrorCode.NONE, retry.error(), retry.errorMessage());
        assertTrue(retry.duplicate(), "answered as a duplicate, although offsets 10-11 are deleted");
        assertEquals(10L, retry.baseOffset());
        assertEquals(20L, log.partition().logEndOffset(), "nothing appended");
        // and after a crash, from the snapshot and replay
        log.crashAndReopen();
        AppendResult again = log.append(batch(5));
        assertTrue(again.duplicate(), "still a duplicate after a restart");
        assertEquals(10L, again.baseOffset());
    }

    @Test
    void retentionAfterDeleteRecordsMovesTheStartOnlyForward() throws Exception {
        TestConfig config = new TestConfig();
        config.retentionMs = 3_600_000L;
        fill(config);
        long[] bases = segmentBases();
        log.store.deleteRecords(LogFixture.TOPIC, 0, bases[1] + 1);
        log.store.runMaintenance(); // nothing is an hour old yet: the start stays inside segment 1
        assertEquals(bases[1] + 1, log.partition().logStartOffset());
        assertEquals(bases[1], log.partition().segments()[0].baseOffset);
        log.clock.advance(10 * 3_600_000L);
        log.store.runMaintenance(); // now every sealed segment is too old: the start is the active segment's base
        long[] after = segmentBases();
        assertEquals(1, after.length);
        assertEquals(after[0], log.partition().logStartOffset());
        log.reopen();
        assertEquals(after[0], log.partition().logStartOffset(), "the larger of the file and the first segment");
    }

    @Test
    void aSegmentWhoseSealIsPendingIsLeftToItsSealAndRemovedByTheNextMaintenance() throws Exception {
        TestConfig config = new TestConfig();
        config.segmentBytes = 1000;
        config.fileDeleteDelayMs = 0L;
        log = new LogFixture(dir, config);
        for (int i = 0; i < 3; i++) {
            log.appendOk(batch(i));
            log.store.commitOnce(); // fsync'd, nothing rolled yet
        }
        log.appendOk(batch(3)); // rolls: the seal of segment 0 is queued, not run
        log.store.commitOnce();
        PartitionLog p = log.partition();
        assertEquals(1, p.pendingSeals());
        assertEquals(6L, p.highWatermark(), "the high watermark waits at the end of the segment being sealed");
        assertEquals(6L, log.store.deleteRecords(LogFixture.TOPIC, 0, -1L));
        assertTrue(Files.exists(LogFiles.logFile(log.partitionDir(), 0L)), "not renamed under its seal");
        log.store.sealOnce();
        assertEquals(0, p.pendingSeals());
        assertEquals(PartitionLog.State.OPEN, p.state());
        log.store.runMaintenance(); // now sealed and entirely below the start: removed, with its index
        assertFalse(Files.exists(LogFiles.logFile(log.partitionDir(), 0L)));
        assertFalse(Files.exists(LogFiles.indexFile(log.partitionDir(), 0L)), "no stray index left");
        assertEquals(0, filesEndingWith(".deleted"));
        assertEquals(6L, p.segments()[0].baseOffset);
        assertEquals(6L, p.logStartOffset());
    }
}
