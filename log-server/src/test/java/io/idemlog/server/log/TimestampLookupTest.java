package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** offsetForTimestamp: the first offset whose record timestamp is at or after t, below the high watermark. */
class TimestampLookupTest {
    @TempDir
    Path dir;
    LogFixture log;
    /** Record timestamps by offset. */
    final List<Long> timestamps = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        TestConfig config = new TestConfig();
        config.indexIntervalBytes = 150;
        config.segmentBytes = 3000;
        log = new LogFixture(dir, config);
    }

    @AfterEach
    void tearDown() throws IOException {
        log.close();
    }

    private void append(long... recordTimestamps) {
        ByteBuffer buf = ByteBuffer.allocateDirect(4096);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (long ts : recordTimestamps) {
            builder.tryAppend(ts, null, new byte[20], null);
            timestamps.add(ts);
        }
        buf.limit(builder.close());
        log.appendOk(buf);
    }

    private long[] naive(long t, long highWatermark) {
        for (int offset = 0; offset < highWatermark; offset++) {
            if (timestamps.get(offset) >= t) {
                return new long[] {offset, timestamps.get(offset)};
            }
        }
        return new long[] {-1L, -1L};
    }

    @Test
    void findsTheFirstRecordAtOrAfterTheTimestampEvenInsideABatch() throws IOException {
        append(100, 110, 120);
        append(130, 140);
        log.store.flushOnce();
        PartitionLog p = log.partition();
        assertArrayEquals(new long[] {0L, 100L}, p.offsetForTimestamp(0L));
        assertArrayEquals(new long[] {0L, 100L}, p.offsetForTimestamp(100L));
        assertArrayEquals(new long[] {1L, 110L}, p.offsetForTimestamp(101L));
        assertArrayEquals(new long[] {3L, 130L}, p.offsetForTimestamp(121L));
        assertArrayEquals(new long[] {4L, 140L}, p.offsetForTimestamp(140L));
        assertArrayEquals(new long[] {-1L, -1L}, p.offsetForTimestamp(141L));
    }

    @Test
    void recordsAboveTheHighWatermarkAreNotFound() throws IOException {
        append(100, 110);
        log.store.flushOnce();
        append(200, 210);
        assertArrayEquals(new long[] {-1L, -1L}, log.partition().offsetForTimestamp(150L));
        log.store.flushOnce();
        assertArrayEquals(new long[] {2L, 200L}, log.partition().offsetForTimestamp(150L));
    }

    @Test
    void randomTimestampsAcrossSegmentsAgreeWithANaiveScan() throws IOException {
        Random random = new Random(11L);
        long base = 1_000_000L;
        for (int b = 0; b < 150; b++) {
            long[] ts = new long[1 + random.nextInt(4)];
            for (int i = 0; i < ts.length; i++) {
                // mostly increasing, sometimes out of order (clients' clocks differ)
                base += random.nextInt(20);
                ts[i] = random.nextInt(8) == 0 ? base - random.nextInt(200) : base;
            }
            append(ts);
        }
        log.store.flushOnce();
        PartitionLog p = log.partition();
        long hw = p.highWatermark();
        for (long t = 999_000L; t < base + 50; t += 7) {
            assertArrayEquals(naive(t, hw), p.offsetForTimestamp(t), "timestamp " + t);
        }
    }

    @Test
    void aLogAppendTimeBatchAnswersWithItsFirstOffset() throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(4096);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        builder.tryAppend(100L, null, new byte[4], null);
        builder.tryAppend(50L, null, new byte[4], null);
        buf.limit(builder.close());
        RecordBatch batch = new RecordBatch(buf, 0);
        buf.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) RecordBatch.TIMESTAMP_TYPE_MASK);
        buf.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, 500L);
        batch.updateCrc();
        log.appendOk(buf);
        log.store.flushOnce();
        assertArrayEquals(new long[] {0L, 500L}, log.partition().offsetForTimestamp(300L));
    }

    /** Before: the IOException was logged and the answer was "no record at or after t" (a seek by time to the end). */
    @Test
    void aSegmentThatCannotBeReadIsAnErrorNotNoSuchOffset() throws IOException {
        append(100, 110, 120);
        log.store.flushOnce();
        PartitionLog p = log.partition();
        assertArrayEquals(new long[] {1L, 110L}, p.offsetForTimestamp(105L));
        p.segments()[0].close(); // reads of its file now fail (ClosedChannelException)
        assertThrows(IOException.class, () -> p.offsetForTimestamp(105L));
        log.store.abandon(); // a clean close would fsync the closed file
    }

    @Test
    void anOfflinePartitionIsAnError() throws IOException {
        append(100, 110);
        log.store.flushOnce();
        log.io.failForces = true;
        append(200);
        log.store.flushOnce(); // the fsync fails: the partition goes offline
        PartitionLog p = log.partition();
        assertEquals(PartitionLog.State.OFFLINE, p.state());
        assertThrows(IOException.class, () -> p.offsetForTimestamp(105L));
    }
}
