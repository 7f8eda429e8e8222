package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damage in a sealed segment found by reads (issue 8, defects 3 and 4): a sparse-index entry that is plausible
 * (increasing, in range) but points inside a batch, a flipped byte in a batch's records (CRC), a flipped baseOffset
 * byte (not covered by the CRC). Each is made by hand between a clean close and the next open. The partition then
 * serves only whole valid batches at the offsets asked for, and at the damage KAFKA_STORAGE_ERROR; the damage is
 * counted once. On the code before the fix each of these tests fails: the index entry was trusted and the fetch
 * started in the middle of a batch; the damaged batches were served.
 */
class SealedSegmentDamageTest {
    @TempDir
    Path dir;
    LogFixture log;
    /** Per offset of the undamaged log: {position, size} of read(offset, READ_BYTES). */
    final List<long[]> cleanReads = new ArrayList<>();
    long segment1Base;

    static final int READ_BYTES = 1000;

    @BeforeEach
    void fill() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 4000;
        config.indexIntervalBytes = 200;
        log = new LogFixture(dir, config);
        for (int i = 0; i < 80; i++) {
            log.appendOk(Batches.withValueSize(7L, 0, 2 * i, 2, 1000L + i, 30));
        }
        log.store.flushOnce();
        assertTrue(log.partition().segments().length >= 3, "several sealed segments");
        segment1Base = log.partition().segments()[1].baseOffset;
        for (long offset = 0; offset < log.partition().highWatermark(); offset++) {
            ReadResult r = log.partition().read(offset, READ_BYTES);
            cleanReads.add(new long[] {r.position(), r.size()});
        }
        log.store.close();
    }

    @AfterEach
    void tearDown() throws IOException {
        log.close();
    }

    private Path segment0() {
        return LogFiles.logFile(log.partitionDir(), 0L);
    }

    private StorageMetrics metrics() {
        return log.store.metrics();
    }

    @Test
    void anIndexEntryPointingInsideABatchIsDetectedAndTheIndexRebuilt() throws IOException {
        Path indexFile = LogFiles.indexFile(log.partitionDir(), 0L);
        ByteBuffer index = ByteBuffer.wrap(Files.readAllBytes(indexFile));
        int entries = index.limit() / SegmentIndex.ENTRY_SIZE;
        assertTrue(entries >= 4, "entries: " + entries);
        int k = entries / 2; // not the last one: its check at open is older
        int at = k * SegmentIndex.ENTRY_SIZE + SegmentIndex.POSITION_OFFSET;
        index.putInt(at, index.getInt(at) + 7); // still increasing and inside the segment
        Files.write(indexFile, index.array());
        log.open();

        for (long offset = 0; offset < segment1Base; offset++) {
            ReadResult r = log.partition().read(offset, READ_BYTES);
            assertEquals(ErrorCode.NONE, r.error(), "offset " + offset);
            assertArrayEquals(cleanReads.get((int) offset), new long[] {r.position(), r.size()}, "offset " + offset);
        }
        assertEquals(1L, metrics().badIndexEntries.sum());
        assertEquals(0L, metrics().corruptBatchesRead.sum(), "the log itself is intact");
        ServedBatches.assertOnlyValidBatches(log.partition());

        log.reopen(); // a clean close rewrites the index file that was found wrong
        for (long offset = 0; offset < segment1Base; offset++) {
            ReadResult r = log.partition().read(offset, READ_BYTES);
            assertArrayEquals(cleanReads.get((int) offset), new long[] {r.position(), r.size()}, "offset " + offset);
        }
        assertEquals(0L, metrics().badIndexEntries.sum(), "the rewritten index file is right");
    }

    @Test
    void aFlippedRecordByteInASealedSegmentIsNotServedAndTheFetchGetsAStorageError() throws IOException {
        long[] damaged = batchInTheMiddle();
        flip(segment0(), damaged[0] + RecordBatch.RECORDS_OFFSET + 3);
        log.open();
        assertConsumerStopsAt(damaged[1]);
    }

    @Test
    void aFlippedBaseOffsetByteIsNotServedAtAWrongOffset() throws IOException {
        long[] damaged = batchInTheMiddle();
        flip(segment0(), damaged[0] + RecordBatch.BASE_OFFSET_OFFSET + 7); // low byte: outside the CRC
        log.open();
        assertConsumerStopsAt(damaged[1]);
    }

    @Test
    void aFlippedLengthByteIsNotFollowed() throws IOException {
        long[] damaged = batchInTheMiddle();
        flip(segment0(), damaged[0] + RecordBatch.LENGTH_OFFSET + 3);
        log.open();
        assertConsumerStopsAt(damaged[1]);
    }

    @Test
    void aDamagedProducerIdInASealedSegmentIsNotReplayedIntoTheProducerState() throws IOException {
        long[] damaged = batchInTheMiddle();
        flip(segment0(), damaged[0] + RecordBatch.PRODUCER_ID_OFFSET + 7); // covered by the CRC
        for (long o : io.idemlog.server.state.ProducerSnapshotFile.list(log.partitionDir())) {
            Files.delete(io.idemlog.server.state.ProducerSnapshotFile.path(log.partitionDir(), o)); // replay it all
        }
        log.open();
        assertEquals(1, log.partition().producerCount(), "producer 7 read as 6 through the flipped bit is not replayed");
        assertConsumerStopsAt(damaged[1]);
    }

    @Test
    void aCleanSealedSegmentIsCheckedOnceThenServedWithoutChecks() throws IOException {
        log.open();
        readLikeAConsumer(segment1Base);
        long checked = metrics().bytesVerified.sum();
        assertEquals(Files.size(segment0()), checked, "each byte of segment 0 checked once");
        readLikeAConsumer(segment1Base);
        assertEquals(checked, metrics().bytesVerified.sum(), "a second pass checks nothing again");
        assertEquals(0L, metrics().corruptBatchesRead.sum());
    }

    /** {position, baseOffset} of a batch in the middle of segment 0, from the clean reads. */
    private long[] batchInTheMiddle() throws IOException {
        long offset = segment1Base / 2;
        long position = cleanReads.get((int) offset)[0];
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        try (FileChannel ch = FileChannel.open(segment0(), StandardOpenOption.READ)) {
            ch.read(header, position);
        }
        return new long[] {position, header.getLong(RecordBatch.BASE_OFFSET_OFFSET)};
    }

    private static void flip(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) (b.get(0) ^ 0x01)).rewind();
            ch.write(b, position);
        }
    }

    /**
     * Reads from offset 0 as a consumer does (next fetch at the offset after the last batch served) and checks that
     * everything below {@code damagedOffset} is served, valid, at its offsets, and that the fetch at the damaged
     * batch answers KAFKA_STORAGE_ERROR, counted once however often it is fetched. The segment after it is still
     * served.
     */
    private void assertConsumerStopsAt(long damagedOffset) throws IOException {
        long reached = readLikeAConsumer(damagedOffset + 1000);
        assertEquals(damagedOffset, reached, "served every offset before the damaged batch, nothing after");
        for (int i = 0; i < 3; i++) {
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, log.partition().read(damagedOffset, READ_BYTES).error());
        }
        assertEquals(1L, metrics().corruptBatchesRead.sum(), "counted once");
        ReadResult next = log.partition().read(segment1Base, READ_BYTES);
        assertEquals(ErrorCode.NONE, next.error());
        assertTrue(next.size() > 0);
    }

    /**
     * Fetches from offset 0 until {@code until}, an error or the end, checking each served batch (framing, CRC,
     * offsets continuous from the offset fetched). Returns the offset it stopped at.
     */
    private long readLikeAConsumer(long until) throws IOException {
        long offset = 0;
        long hw = log.partition().highWatermark();
        while (offset < Math.min(until, hw)) {
            ReadResult r = log.partition().read(offset, READ_BYTES);
            if (r.error() != ErrorCode.NONE) {
                return offset;
            }
            assertTrue(r.size() > 0, "progress at " + offset);
            ByteBuffer bytes = ByteBuffer.allocate(r.size());
            while (bytes.hasRemaining()) {
                if (r.channel().read(bytes, r.position() + bytes.position()) < 0) {
                    throw new AssertionError("short file");
                }
            }
            int p = 0;
            boolean first = true;
            while (p < bytes.limit()) {
                RecordBatch b = new RecordBatch(bytes, p);
                RecordBatch.Validation v = b.validate(bytes.limit() - p, Integer.MAX_VALUE);
                assertEquals(RecordBatch.Validation.VALID, v, "batch at byte " + p + " of the fetch at " + offset);
                if (first) {
                    assertTrue(b.baseOffset() <= offset && b.lastOffset() >= offset, "fetch at " + offset
                        + " served " + b.baseOffset() + "-" + b.lastOffset());
                } else {
                    assertEquals(offset, b.baseOffset(), "continuous offsets");
                }
                offset = b.lastOffset() + 1;
                first = false;
                p += b.sizeInBytes();
            }
        }
        return offset;
    }
}
