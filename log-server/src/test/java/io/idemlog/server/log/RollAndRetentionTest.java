package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.state.ProducerSnapshotFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Segments roll by size and age; retention removes whole old segments by age and size, by the injected clock. */
class RollAndRetentionTest {
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

    /** A batch of about 300 bytes, timestamped by the test clock. */
    private ByteBuffer batch() {
        return Batches.withValueSize(-1L, -1, -1, 2, log.clock.time(), 100);
    }

    @Test
    void theSegmentRollsBeforeItWouldExceedSegmentBytesAndASnapshotMarksTheRoll() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 1000;
        open(config);
        for (int i = 0; i < 10; i++) {
            log.appendOk(batch());
        }
        log.store.sealOnce(); // the storage thread's part of the rolls
        LogSegment[] segments = log.partition().segments();
        assertTrue(segments.length >= 3, "segments: " + segments.length);
        for (int i = 0; i < segments.length; i++) {
            assertTrue(segments[i].size() <= 1000, "segment " + i + " has " + segments[i].size() + " bytes");
            if (i > 0) {
                assertEquals(segments[i - 1].nextOffset(), segments[i].baseOffset);
                assertTrue(Files.exists(ProducerSnapshotFile.path(log.partitionDir(), segments[i].baseOffset)));
                assertTrue(Files.exists(LogFiles.indexFile(log.partitionDir(), segments[i - 1].baseOffset)),
                    "a sealed segment's index is on disk");
            }
        }
        assertEquals(20L, log.partition().logEndOffset());
    }

    @Test
    void aBatchLargerThanSegmentBytesGetsASegmentOfItsOwn() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 100;
        open(config);
        log.appendOk(batch());
        log.appendOk(batch());
        assertEquals(2, log.partition().segments().length);
    }

    @Test
    void theSegmentRollsOnceItsFirstBatchIsSegmentMsOld() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentMs = 60_000L;
        open(config);
        log.appendOk(batch());
        log.clock.advance(59_999L);
        log.appendOk(batch());
        assertEquals(1, log.partition().segments().length);
        log.clock.advance(1L);
        log.appendOk(batch());
        assertEquals(2, log.partition().segments().length);
        assertEquals(4L, log.partition().segments()[1].baseOffset);
    }

    @Test
    void sizeRetentionDeletesTheOldestSegmentsWhileTheRestStaysAtLeastRetentionBytes() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 700;
        config.retentionBytes = 1500;
        open(config);
        for (int i = 0; i < 12; i++) {
            log.appendOk(batch());
        }
        log.store.flushOnce();
        PartitionLog p = log.partition();
        LogSegment[] before = p.segments();
        long total = 0;
        for (LogSegment s : before) {
            total += s.size();
        }
        log.store.runMaintenance();
        LogSegment[] after = p.segments();
        long kept = 0;
        for (LogSegment s : after) {
            kept += s.size();
        }
        assertTrue(after.length < before.length);
        assertTrue(kept >= 1500, "kept " + kept);
        assertTrue(kept - after[0].size() < 1500, "one more could have gone: kept " + kept + " of " + total);
        assertEquals(after[0].baseOffset, p.logStartOffset());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, p.read(p.logStartOffset() - 1, 1000).error());
        assertEquals(ErrorCode.NONE, p.read(p.logStartOffset(), 1000).error());
        assertFalse(Files.exists(LogFiles.logFile(log.partitionDir(), 0L)));
    }

    @Test
    void timeRetentionDeletesSegmentsWhoseNewestRecordIsOlderThanRetentionMs() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 700;
        config.retentionMs = 3_600_000L;
        open(config);
        for (int i = 0; i < 4; i++) {
            log.appendOk(batch());
        }
        log.clock.advance(1_800_000L);
        for (int i = 0; i < 4; i++) {
            log.appendOk(batch());
        }
        log.store.flushOnce();
        PartitionLog p = log.partition();
        int segments = p.segments().length;
        log.store.runMaintenance();
        assertEquals(segments, p.segments().length, "nothing is old enough yet");

        // the first two segments' newest record (at T + 1) is now more than retentionMs old; the third's is not
        log.clock.advance(1_800_002L);
        log.store.runMaintenance();
        assertEquals(8L, p.logStartOffset());

        log.clock.advance(10 * 3_600_000L);
        log.store.runMaintenance();
        assertEquals(1, p.segments().length, "the active segment is never deleted");
        assertEquals(16L, p.logEndOffset());
    }

    @Test
    void segmentsNotYetDurableAreNotDeleted() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 700;
        config.retentionBytes = 0;
        open(config);
        for (int i = 0; i < 8; i++) {
            log.appendOk(batch());
        }
        PartitionLog p = log.partition();
        int segments = p.segments().length;
        log.store.runMaintenance();
        assertEquals(segments, p.segments().length, "the high watermark is still 0");
        log.store.flushOnce();
        log.clock.advance(config.retentionCheckIntervalMs);
        log.store.runMaintenance();
        assertEquals(1, p.segments().length);
    }

    @Test
    void aDeletedSegmentStaysReadableThroughItsChannelUntilTheDeleteDelayPassed() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 700;
        config.retentionBytes = 0;
        config.fileDeleteDelayMs = 60_000L;
        open(config);
        for (int i = 0; i < 6; i++) {
            log.appendOk(batch());
        }
        log.store.flushOnce();
        PartitionLog p = log.partition();
        ReadResult inFlight = p.read(0L, 100_000);
        Path original = LogFiles.logFile(log.partitionDir(), 0L);
        Path renamed = original.resolveSibling(original.getFileName() + LogFiles.DELETED_SUFFIX);

        log.store.runMaintenance();
        assertTrue(p.logStartOffset() > 0L);
        assertFalse(Files.exists(original));
        assertTrue(Files.exists(renamed), "renamed, not yet deleted");
        ByteBuffer bytes = ByteBuffer.allocate(inFlight.size());
        assertEquals(inFlight.size(), inFlight.channel().read(bytes, inFlight.position()));

        log.clock.advance(59_999L);
        log.store.runMaintenance();
        assertTrue(Files.exists(renamed));
        log.clock.advance(1L);
        log.store.runMaintenance();
        assertFalse(Files.exists(renamed));
        assertFalse(inFlight.channel().isOpen());
    }

    @Test
    void producerStateOutlivesTheRecordsItCameFrom() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 700;
        config.retentionBytes = 0;
        open(config);
        ByteBuffer first = Batches.withValueSize(5L, 0, 0, 2, log.clock.time(), 100);
        log.appendOk(Batches.copy(first));
        for (int i = 0; i < 5; i++) {
            log.appendOk(batch());
        }
        log.store.flushOnce();
        log.store.runMaintenance();
        PartitionLog p = log.partition();
        assertTrue(p.logStartOffset() > 1L);
        AppendResult retry = log.append(Batches.copy(first));
        assertEquals(AppendResult.duplicate(0L, 1L), retry);

        log.reopen();
        assertEquals(p.logStartOffset(), log.partition().logStartOffset(), "the log start survives a restart");
        assertEquals(AppendResult.duplicate(0L, 1L), log.append(Batches.copy(first)));
    }

    @Test
    void onlyTheNewestSnapshotsAreKept() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 400;
        open(config);
        for (int i = 0; i < 10; i++) {
            log.appendOk(batch());
        }
        log.store.sealOnce();
        long[] snapshots = ProducerSnapshotFile.list(log.partitionDir());
        assertEquals(PartitionLog.SNAPSHOTS_TO_KEEP, snapshots.length);
        LogSegment[] segments = log.partition().segments();
        assertArrayEquals(List.of(segments[segments.length - 3].baseOffset, segments[segments.length - 2].baseOffset,
            segments[segments.length - 1].baseOffset).stream().mapToLong(Long::longValue).toArray(), snapshots);
    }
}
