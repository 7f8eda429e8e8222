package io.idemlog.common.record;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordBatchTest {
    private static ByteBuffer build(ByteBuffer buf, int records) {
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < records; i++) {
            Header[] headers = i % 2 == 0 ? null : new Header[] {new Header("h" + i, ("hv" + i).getBytes()),
                new Header("n\u00e9", null)};
            assertTrue(b.tryAppend(1_000L + i, i % 3 == 0 ? null : ("k" + i).getBytes(), ("value-" + i).getBytes(),
                headers));
        }
        int size = b.close();
        assertEquals(size, b.sizeInBytes());
        return buf.limit(size);
    }

    @Test
    void theValidatingWalkReportsEachRecordAndTheValueOfItsFirstHeaderWithTheName() {
        byte[] name = "event-id".getBytes(StandardCharsets.UTF_8);
        Header[][] headers = {
            null,                                                                        // no headers
            {new Header("other", "x".getBytes()), new Header("event-id", "a".getBytes())},
            {new Header("event-id", null), new Header("event-id", "b".getBytes())},    // first is null: none
            {new Header("event-id", new byte[0])},                                      // empty value
            {new Header("event-id", "c".getBytes()), new Header("event-id", "d".getBytes())},
            {new Header("event-ie", "e".getBytes()), new Header("event-i", "f".getBytes())}, // near names
        };
        String[] expected = {null, "a", null, "", "c", null};
        for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocate(4096), ByteBuffer.allocateDirect(4096)}) {
            RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
            for (int i = 0; i < headers.length; i++) {
                assertTrue(b.tryAppend(1_000L + 7 * i, null, ("value-" + i).getBytes(), headers[i]));
            }
            buf.limit(b.close());
            RecordBatch batch = new RecordBatch(buf, 0);
            int[] seen = {0};
            int[] previousEnd = {RecordBatch.RECORDS_OFFSET};
            RecordBatch.RecordSink check = (index, start, end, tsDelta, vIndex, vLength) -> {
                assertEquals(seen[0]++, index);
                assertEquals(previousEnd[0], start, "records are contiguous");
                previousEnd[0] = end;
                assertEquals(7L * index, tsDelta);
                if (expected[index] == null) {
                    assertEquals(-1, vLength, "record " + index);
                } else {
                    byte[] value = new byte[vLength];
                    buf.get(vIndex, value);
                    assertEquals(expected[index], new String(value, StandardCharsets.UTF_8), "record " + index);
                }
            };
            assertTrue(batch.validateRecords(new Varints.Cursor(), name, check));
            assertEquals(headers.length, seen[0]);
            assertEquals(buf.limit(), previousEnd[0]);
            // The same verdict as the plain walk on every truncation of the records section.
            for (int cut = RecordBatch.RECORDS_OFFSET; cut < buf.limit(); cut++) {
                ByteBuffer copy = ByteBuffer.allocate(buf.limit());
                copy.put(0, buf, 0, buf.limit());
                copy.putInt(RecordBatch.LENGTH_OFFSET, cut - RecordBatch.LOG_OVERHEAD);
                RecordBatch damaged = new RecordBatch(copy, 0);
                assertEquals(damaged.validateRecords(new Varints.Cursor()),
                    damaged.validateRecords(new Varints.Cursor(), name, (i, s0, e, t, vi, vl) -> { }), "cut " + cut);
                assertFalse(damaged.validateRecords(new Varints.Cursor(), name, null), "cut " + cut);
            }
        }
    }

    @Test
    void shouldBuildABatchThatValidatesAndReadsBack() {
        for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocate(4096), ByteBuffer.allocateDirect(4096)}) {
            build(buf, 10);
            RecordBatch batch = new RecordBatch(buf, 0);
            assertEquals(RecordBatch.Validation.VALID, batch.validate(buf.limit(), Integer.MAX_VALUE));
            assertTrue(batch.validateRecords(new Varints.Cursor()));
            assertEquals(10, batch.recordsCount());
            assertEquals(9, batch.lastOffsetDelta());
            assertEquals(1_000L, batch.baseTimestamp());
            assertEquals(1_009L, batch.maxTimestamp());
            assertEquals(-1L, batch.producerId());
            assertEquals(-1, batch.baseSequence());
            assertEquals(-1, batch.lastSequence());
            RecordReader r = new RecordReader().wrap(buf, 0);
            int i = 0;
            while (r.next()) {
                assertEquals(i, r.offset);
                assertEquals(1_000L + i, r.timestamp);
                assertArrayEquals(("value-" + i).getBytes(), r.value());
                if (i % 3 == 0) {
                    assertNull(r.key());
                } else {
                    assertArrayEquals(("k" + i).getBytes(), r.key());
                }
                assertEquals(i % 2 == 0 ? 0 : 2, r.headerCount);
                i++;
            }
            assertEquals(10, i);
        }
    }

    @Test
    void shouldStampProducerStateAndKeepTheCrcValid() {
        ByteBuffer buf = build(ByteBuffer.allocate(4096), 5);
        RecordBatch batch = new RecordBatch(buf, 0);
        batch.stampProducerState(77L, (short) 3, Integer.MAX_VALUE - 2);
        assertTrue(batch.isCrcValid());
        assertEquals(77L, batch.producerId());
        assertEquals(3, batch.producerEpoch());
        assertEquals(1, batch.lastSequence(), "MAX-2 + 4 wraps to 1");
    }

    @Test
    void baseOffsetAndLeaderEpochLieOutsideTheCrc() {
        ByteBuffer buf = build(ByteBuffer.allocate(4096), 3);
        RecordBatch batch = new RecordBatch(buf, 0);
        batch.baseOffset(123_456L);
        batch.partitionLeaderEpoch(9);
        assertTrue(batch.isCrcValid());
        assertEquals(123_458L, batch.lastOffset());
    }

    @Test
    void shouldDetectEveryKindOfBrokenHeader() {
        ByteBuffer buf = build(ByteBuffer.allocate(4096), 3);
        int size = buf.limit();
        RecordBatch batch = new RecordBatch(buf, 0);
        assertEquals(RecordBatch.Validation.TRUNCATED, batch.validate(RecordBatch.HEADER_SIZE - 1, 1 << 20));
        assertEquals(RecordBatch.Validation.TRUNCATED, batch.validate(size - 1, 1 << 20));
        assertEquals(RecordBatch.Validation.TOO_LARGE, batch.validate(size, size - 1));

        buf.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
        assertEquals(RecordBatch.Validation.BAD_MAGIC, batch.validate(size, 1 << 20));
        buf.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);

        buf.put(size - 1, (byte) (buf.get(size - 1) ^ 1));
        assertEquals(RecordBatch.Validation.BAD_CRC, batch.validate(size, 1 << 20));
        buf.put(size - 1, (byte) (buf.get(size - 1) ^ 1));

        buf.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 5);
        batch.updateCrc();
        assertEquals(RecordBatch.Validation.BAD_COUNT, batch.validate(size, 1 << 20));
        buf.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 2);
        batch.updateCrc();
        assertEquals(RecordBatch.Validation.VALID, batch.validate(size, 1 << 20));

        buf.putInt(RecordBatch.LENGTH_OFFSET, 10);
        assertEquals(RecordBatch.Validation.BAD_LENGTH, batch.validate(size, 1 << 20));
    }

    @Test
    void shouldCallAHugeBatchLengthTruncatedWithoutOverflowing() {
        ByteBuffer buf = build(ByteBuffer.allocate(4096), 3);
        int size = buf.limit();
        RecordBatch batch = new RecordBatch(buf, 0);
        for (int length : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE - RecordBatch.LOG_OVERHEAD + 1}) {
            buf.putInt(RecordBatch.LENGTH_OFFSET, length);
            assertEquals(RecordBatch.Validation.TRUNCATED, batch.validate(size, Integer.MAX_VALUE));
            assertTrue(batch.describe(RecordBatch.Validation.TRUNCATED, size, Integer.MAX_VALUE)
                .contains("runs past"));
        }
        buf.putInt(RecordBatch.LENGTH_OFFSET, Integer.MIN_VALUE);
        assertEquals(RecordBatch.Validation.BAD_LENGTH, batch.validate(size, Integer.MAX_VALUE));
    }

    @Test
    void shouldRejectRecordsThatDoNotParseEvenWithAValidCrc() {
        Random random = new Random(42);
        int rejected = 0;
        for (int i = 0; i < 2000; i++) {
            ByteBuffer buf = build(ByteBuffer.allocate(4096), 4);
            int at = RecordBatch.RECORDS_OFFSET + random.nextInt(buf.limit() - RecordBatch.RECORDS_OFFSET);
            buf.put(at, (byte) random.nextInt(256));
            RecordBatch batch = new RecordBatch(buf, 0);
            batch.updateCrc();
            assertEquals(RecordBatch.Validation.VALID, batch.validate(buf.limit(), 1 << 20));
            if (!batch.validateRecords(new Varints.Cursor())) {
                rejected++;
            }
        }
        assertTrue(rejected > 200, "the record walk rejects structural damage: " + rejected);
    }

    @Test
    void shouldRefuseARecordThatDoesNotFitAndKeepTheBatchIntact() {
        ByteBuffer buf = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + 20);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        assertTrue(b.tryAppend(1, null, "12345".getBytes(), null));
        assertFalse(b.tryAppend(1, null, "a value that is far too long".getBytes(StandardCharsets.UTF_8), null));
        int size = b.close();
        RecordBatch batch = new RecordBatch(buf, 0);
        assertEquals(RecordBatch.Validation.VALID, batch.validate(size, 1 << 20));
        assertEquals(1, batch.recordsCount());
        assertThrows(IllegalStateException.class, () -> b.tryAppend(1, null, null, null));
    }

    @Test
    void sizeOfRecordMatchesWhatIsWritten() {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        Header[] h = {new Header("key", new byte[300])};
        int before = b.sizeInBytes();
        b.tryAppend(5, new byte[200], new byte[70_00], h);
        assertEquals(RecordBatchBuilder.sizeOfRecord(0, 0, 200, 7000, h), b.sizeInBytes() - before);
        assertTrue(RecordBatchBuilder.estimateSizeUpperBound(200, 7000, h) >= b.sizeInBytes() - before);
    }
}
