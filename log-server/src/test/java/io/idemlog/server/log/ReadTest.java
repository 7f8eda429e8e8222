package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Partition.read: whole batches, at least one, never past the high watermark, from one segment. */
class ReadTest {
    /** Where a batch went: the test's own bookkeeping, independent of the index and the read path. */
    record Stored(long segmentBase, int position, int size, long baseOffset, long lastOffset) {
    }

    @TempDir
    Path dir;
    LogFixture log;
    final List<Stored> stored = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        TestConfig config = new TestConfig();
        config.indexIntervalBytes = 200;
        config.segmentBytes = 4000;
        log = new LogFixture(dir, config);
    }

    @AfterEach
    void tearDown() throws IOException {
        log.close();
    }

    private Stored append(int records, int valueSize) {
        ByteBuffer batch = Batches.withValueSize(-1L, -1, -1, records, 1000L, valueSize);
        int size = batch.limit();
        AppendResult r = log.appendOk(batch);
        LogSegment[] segments = log.partition().segments();
        LogSegment last = segments[segments.length - 1];
        Stored s = new Stored(last.baseOffset, last.size() - size, size, r.baseOffset(), r.lastOffset());
        stored.add(s);
        return s;
    }

    private void appendMany(int batches, long seed) {
        Random random = new Random(seed);
        for (int i = 0; i < batches; i++) {
            append(1 + random.nextInt(4), 10 + random.nextInt(120));
        }
    }

    /** What read must return, computed naively from the bookkeeping. */
    private long[] expected(long fetchOffset, int maxBytes, long highWatermark) {
        for (int i = 0; i < stored.size(); i++) {
            Stored s = stored.get(i);
            if (s.baseOffset <= fetchOffset && fetchOffset <= s.lastOffset) {
                int size = s.size;
                for (int j = i + 1; j < stored.size(); j++) {
                    Stored n = stored.get(j);
                    if (n.segmentBase != s.segmentBase || n.baseOffset >= highWatermark || size + n.size > maxBytes) {
                        break;
                    }
                    size += n.size;
                }
                return new long[] {s.segmentBase, s.position, size};
            }
        }
        throw new AssertionError("no batch holds " + fetchOffset);
    }

    @Test
    void everyFetchOffsetAndLimitGivesTheBatchesANaiveScanGives() throws IOException {
        appendMany(120, 42L);
        log.store.flushOnce();
        PartitionLog p = log.partition();
        assertTrue(p.segments().length > 3, "the test wants several segments");
        long hw = p.highWatermark();
        for (long offset = 0; offset < hw; offset++) {
            for (int maxBytes : new int[] {0, 1, 100, 250, 999, 4000, Integer.MAX_VALUE}) {
                ReadResult r = p.read(offset, maxBytes);
                long[] want = expected(offset, maxBytes, hw);
                assertEquals(ErrorCode.NONE, r.error());
                assertEquals(LogFiles.logFile(log.partitionDir(), want[0]), r.file(), "offset " + offset);
                assertEquals(want[1], r.position(), "position for offset " + offset + " max " + maxBytes);
                assertEquals(want[2], r.size(), "size for offset " + offset + " max " + maxBytes);
                assertEquals(hw, r.highWatermark());
                assertEquals(0L, r.logStartOffset());
            }
        }
    }

    @Test
    void theReturnedRangeHoldsWholeValidBatchesStartingWithTheOneThatHoldsTheFetchOffset() throws IOException {
        appendMany(30, 7L);
        log.store.flushOnce();
        ReadResult r = log.partition().read(10L, 1000);
        ByteBuffer bytes = ByteBuffer.allocate(r.size());
        while (bytes.hasRemaining()) {
            r.channel().read(bytes, r.position() + bytes.position());
        }
        RecordBatch batch = new RecordBatch(bytes, 0);
        assertTrue(batch.baseOffset() <= 10L && batch.lastOffset() >= 10L);
        int at = 0;
        long expectedOffset = batch.baseOffset();
        while (at < r.size()) {
            batch.wrap(bytes, at);
            assertEquals(expectedOffset, batch.baseOffset());
            assertTrue(batch.isCrcValid());
            expectedOffset = batch.lastOffset() + 1;
            at += batch.sizeInBytes();
        }
        assertEquals(r.size(), at, "no partial batch at the end");
    }

    @Test
    void theFirstBatchIsReturnedWholeEvenWhenLargerThanMaxBytes() {
        Stored big = append(3, 500);
        append(1, 10);
        log.store.flushOnce();
        ReadResult r = log.partition().read(1L, 10);
        assertEquals(big.size, r.size());
        assertEquals(0L, r.position());
    }

    @Test
    void nothingAtOrAboveTheHighWatermarkIsReturned() {
        Stored durable = append(2, 10);
        log.store.flushOnce();
        append(2, 10);
        append(2, 10);
        PartitionLog p = log.partition();
        assertEquals(2L, p.highWatermark());
        assertEquals(6L, p.logEndOffset());
        ReadResult r = p.read(0L, Integer.MAX_VALUE);
        assertEquals(durable.size, r.size());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, p.read(3L, 1000).error(), "above the high watermark");
    }

    @Test
    void aFetchAtTheHighWatermarkReturnsNothingWithoutError() {
        append(2, 10);
        log.store.flushOnce();
        ReadResult r = log.partition().read(2L, 1000);
        assertEquals(ErrorCode.NONE, r.error());
        assertEquals(0, r.size());
        assertNull(r.file());
        assertEquals(2L, r.highWatermark());
    }

    @Test
    void anEmptyLogAnswersOffsetZeroWithNothing() {
        ReadResult r = log.partition().read(0L, 1000);
        assertEquals(ErrorCode.NONE, r.error());
        assertEquals(0, r.size());
    }

    @Test
    void offsetsOutsideTheLogAreOutOfRange() {
        append(2, 10);
        log.store.flushOnce();
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, log.partition().read(-1L, 1000).error());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, log.partition().read(3L, 1000).error());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, log.partition().read(Long.MAX_VALUE, 1000).error());
    }

    @Test
    void aReadStaysInOneSegment() {
        appendMany(60, 3L);
        log.store.flushOnce();
        PartitionLog p = log.partition();
        LogSegment first = p.segments()[0];
        ReadResult r = p.read(0L, Integer.MAX_VALUE);
        assertEquals(first.size(), r.size());
        assertNotNull(r.channel());
        ReadResult next = p.read(first.nextOffset(), Integer.MAX_VALUE);
        assertEquals(0L, next.position());
        assertEquals(LogFiles.logFile(log.partitionDir(), first.nextOffset()), next.file());
    }
}
