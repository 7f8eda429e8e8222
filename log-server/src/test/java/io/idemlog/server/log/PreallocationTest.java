package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * log.preallocate: the active segment is zero-filled ahead of the write position (so fsync overwrites allocated
 * blocks), the zeros never show in reads, sealed and cleanly closed segments are trimmed to their data, and after
 * a crash the zeros are cut like any tail past the last batch, nothing else lost.
 */
class PreallocationTest {
    @TempDir
    Path dir;
    LogFixture log;

    @AfterEach
    void tearDown() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private LogFixture open(long segmentBytes) throws IOException {
        TestConfig config = new TestConfig();
        config.preallocate = true;
        config.segmentBytes = segmentBytes;
        log = new LogFixture(dir, config);
        return log;
    }

    private Path file(int segment) {
        return LogFiles.logFile(log.partitionDir(), log.partition().segments()[segment].baseOffset);
    }

    @Test
    void theActiveSegmentIsZeroFilledAheadButReadsSeeOnlyTheData() throws IOException {
        open(64L << 20);
        ByteBuffer b = Batches.idempotent(1L, 0, 0, 3);
        int size = b.limit();
        log.appendDurable(b);
        assertTrue(Files.size(file(0)) >= LogConfig.PREALLOCATE_AHEAD_BYTES, "zero-filled ahead");
        assertEquals(size, log.partition().segments()[0].size());
        ReadResult r = log.partition().read(0, 1 << 20);
        assertEquals(ErrorCode.NONE, r.error());
        assertEquals(size, r.size(), "a read never reaches into the zeros");
        assertEquals(3, log.partition().highWatermark());
    }

    @Test
    void preallocationNeverGoesPastTheSegmentSize() throws IOException {
        open(8 * 1024);
        log.appendDurable(Batches.idempotent(1L, 0, 0, 3));
        assertTrue(Files.size(file(0)) <= 8 * 1024, "file of " + Files.size(file(0)) + " bytes");
    }

    @Test
    void aSealedSegmentIsTrimmedToItsData() throws IOException {
        open(4096);
        int seq = 0;
        while (log.partition().segments().length < 3) {
            log.appendOk(Batches.withValueSize(1L, 0, seq, 5, 1_700_000_000_000L, 100));
            seq += 5;
        }
        log.store.flushOnce();
        for (int i = 0; i < log.partition().segments().length - 1; i++) {
            assertEquals(log.partition().segments()[i].size(), Files.size(file(i)), "sealed segment " + i);
        }
    }

    @Test
    void aCleanCloseTrimsTheActiveSegmentAndTheRestartFindsNothingToCut() throws IOException {
        open(64L << 20);
        ByteBuffer b = Batches.idempotent(1L, 0, 0, 3);
        int size = b.limit();
        log.appendDurable(b);
        Path active = file(0);
        log.reopen();
        // the reopened store zero-fills again only when it is next written to
        assertEquals(size, Files.size(active));
        assertEquals(3, log.partition().logEndOffset());
    }

    @Test
    void afterACrashTheZerosAreCutAndAResentBatchIsStillADuplicate() throws IOException {
        open(64L << 20);
        ByteBuffer first = Batches.idempotent(7L, 0, 0, 2);
        ByteBuffer second = Batches.idempotent(7L, 0, 2, 2);
        ByteBuffer secondCopy = Batches.copy(second);
        log.appendDurable(first);
        log.appendDurable(second);
        Path active = file(0);
        assertTrue(Files.size(active) > log.partition().segments()[0].size());
        log.crashAndReopen();
        assertEquals(4, log.partition().logEndOffset());
        assertEquals(log.partition().segments()[0].size(), Files.size(active), "zeros cut");
        AppendResult again = log.append(secondCopy);
        assertEquals(ErrorCode.NONE, again.error());
        assertTrue(again.duplicate());
        assertEquals(2L, again.baseOffset());
        AppendResult next = log.appendOk(Batches.idempotent(7L, 0, 4, 2));
        assertEquals(4L, next.baseOffset(), "appends continue right after the last batch, over the cut zeros");
    }
}
