package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of bad input to Partition.append gives its documented error code, in the documented order, and leaves
 * the log exactly as it was (end offset, file bytes, producer state).
 */
class AppendValidationTest {
    @TempDir
    Path dir;
    LogFixture log;

    @BeforeEach
    void setUp() throws IOException {
        TestConfig config = new TestConfig();
        config.maxBatchBytes = 2048;
        log = new LogFixture(dir, config);
        log.appendDurable(Batches.idempotent(7L, 0, 0, 2));
    }

    @AfterEach
    void tearDown() throws IOException {
        log.close();
    }

    /** Appends {@code bytes} and checks the error and that nothing changed. */
    private void assertRejected(ErrorCode expected, byte[] bytes) throws IOException {
        PartitionLog p = log.partition();
        long end = p.logEndOffset();
        long hw = p.highWatermark();
        int producers = p.producerCount();
        byte[] fileBefore = Files.readAllBytes(LogFiles.logFile(log.partitionDir(), 0));
        ByteBuffer buf = Batches.direct(bytes);
        AppendResult result = p.append(buf, 0, bytes.length);
        assertEquals(expected, result.error(), result.errorMessage());
        assertEquals(-1L, result.baseOffset());
        assertEquals(end, p.logEndOffset());
        log.store.flushOnce();
        assertEquals(hw, p.highWatermark());
        assertEquals(producers, p.producerCount());
        assertTrue(Arrays.equals(fileBefore, Files.readAllBytes(LogFiles.logFile(log.partitionDir(), 0))),
            "segment file changed");
        // and the log still works: the next in-sequence batch goes in at the next offset
        assertEquals(end, log.appendDurable(Batches.idempotent(7L, 0, nextSequence, 1)).baseOffset());
        nextSequence++;
    }

    private int nextSequence = 2;
    private static final Compression[] CODECS = {Compression.GZIP, Compression.SNAPPY, Compression.LZ4,
        Compression.ZSTD};

    private static byte[] valid() {
        return Batches.bytes(Batches.idempotent(7L, 0, 2, 3));
    }

    /** A valid batch changed by {@code change}, with its CRC recomputed, so only the intended check fails. */
    private static byte[] validWith(Consumer<ByteBuffer> change) {
        byte[] bytes = valid();
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        change.accept(buf);
        new RecordBatch(buf, 0).updateCrc();
        return bytes;
    }

    @Test
    void emptyRecordsAreACorruptMessage() throws IOException {
        assertRejected(ErrorCode.CORRUPT_MESSAGE, new byte[0]);
    }

    @Test
    void fewerBytesThanABatchHeaderAreACorruptMessage() throws IOException {
        assertRejected(ErrorCode.CORRUPT_MESSAGE, Arrays.copyOf(valid(), RecordBatch.HEADER_SIZE - 1));
    }

    @Test
    void aBatchLengthPastTheEndIsACorruptMessage() throws IOException {
        byte[] bytes = valid();
        assertRejected(ErrorCode.CORRUPT_MESSAGE, Arrays.copyOf(bytes, bytes.length - 1));
    }

    @Test
    void aBatchLengthShorterThanAHeaderIsACorruptMessage() throws IOException {
        byte[] bytes = valid();
        int tooShort = RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD - 1;
        ByteBuffer.wrap(bytes).putInt(RecordBatch.LENGTH_OFFSET, tooShort);
        assertRejected(ErrorCode.CORRUPT_MESSAGE, bytes);
    }

    @Test
    void aHugeBatchLengthIsACorruptMessageNotAnOverflow() throws IOException {
        byte[] bytes = valid();
        ByteBuffer.wrap(bytes).putInt(RecordBatch.LENGTH_OFFSET, Integer.MAX_VALUE);
        assertRejected(ErrorCode.CORRUPT_MESSAGE, bytes);
    }

    @Test
    void twoBatchesInOnePartitionAreAnInvalidRecord() throws IOException {
        byte[] one = valid();
        byte[] two = Arrays.copyOf(one, one.length * 2);
        System.arraycopy(one, 0, two, one.length, one.length);
        assertRejected(ErrorCode.INVALID_RECORD, two);
    }

    @Test
    void trailingBytesAfterTheBatchAreAnInvalidRecord() throws IOException {
        byte[] one = valid();
        assertRejected(ErrorCode.INVALID_RECORD, Arrays.copyOf(one, one.length + 1));
    }

    @Test
    void aBatchLargerThanMaxBatchBytesIsTooLarge() throws IOException {
        assertRejected(ErrorCode.MESSAGE_TOO_LARGE,
            Batches.bytes(Batches.withValueSize(7L, 0, 2, 3, 1000L, 1000)));
    }

    @Test
    void sizeIsCheckedBeforeTheCrc() throws IOException {
        byte[] bytes = Batches.bytes(Batches.withValueSize(7L, 0, 2, 3, 1000L, 1000));
        bytes[bytes.length - 1] ^= 1;
        assertRejected(ErrorCode.MESSAGE_TOO_LARGE, bytes);
    }

    @Test
    void magicOtherThanTwoIsAnInvalidRecord() throws IOException {
        byte[] bytes = valid();
        bytes[RecordBatch.MAGIC_OFFSET] = 1; // outside the CRC
        assertRejected(ErrorCode.INVALID_RECORD, bytes);
    }

    @Test
    void magicIsCheckedBeforeTheCrc() throws IOException {
        byte[] bytes = valid();
        bytes[RecordBatch.MAGIC_OFFSET] = 1;
        bytes[bytes.length - 1] ^= 1;
        assertRejected(ErrorCode.INVALID_RECORD, bytes);
    }

    @Test
    void aCrcMismatchIsACorruptMessage() throws IOException {
        byte[] bytes = valid();
        bytes[bytes.length - 3] ^= 0x40;
        assertRejected(ErrorCode.CORRUPT_MESSAGE, bytes);
    }

    @Test
    void aChangedProducerFieldWithoutANewCrcIsACorruptMessage() throws IOException {
        byte[] bytes = valid();
        ByteBuffer.wrap(bytes).putInt(RecordBatch.BASE_SEQUENCE_OFFSET, 2);
        bytes[RecordBatch.BASE_SEQUENCE_OFFSET + 3] ^= 1;
        assertRejected(ErrorCode.CORRUPT_MESSAGE, bytes);
    }

    @Test
    void aLastOffsetDeltaThatDoesNotMatchTheRecordCountIsAnInvalidRecord() throws IOException {
        assertRejected(ErrorCode.INVALID_RECORD,
            validWith(b -> b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 5)));
    }

    @Test
    void aBatchWithoutRecordsIsAnInvalidRecord() throws IOException {
        assertRejected(ErrorCode.INVALID_RECORD, validWith(b -> {
            b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 0);
            b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, -1);
        }));
    }

    @Test
    void anUndefinedCodecIdIsAnUnsupportedCompressionType() throws IOException {
        for (short codec = 5; codec <= 7; codec++) {
            short attributes = codec;
            assertRejected(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
                validWith(b -> b.putShort(RecordBatch.ATTRIBUTES_OFFSET, attributes)));
        }
    }

    @Test
    void aBatchMarkedCompressedWhoseRecordsAreNotCompressedIsACorruptMessage() throws IOException {
        for (short codec = 1; codec <= 4; codec++) {
            short attributes = codec;
            assertRejected(ErrorCode.CORRUPT_MESSAGE,
                validWith(b -> b.putShort(RecordBatch.ATTRIBUTES_OFFSET, attributes)));
        }
    }

    private static ByteBuffer template() {
        return Batches.withValueSize(7L, 0, 2, 3, 1_000L, 40);
    }

    @Test
    void aTruncatedCompressedStreamIsACorruptMessage() throws IOException {
        for (Compression codec : CODECS) {
            byte[] z = Batches.compress(codec, Batches.inner(template()));
            assertRejected(ErrorCode.CORRUPT_MESSAGE,
                Batches.bytes(Batches.withPayload(template(), codec.id, 3, Arrays.copyOf(z, z.length - 3))));
        }
    }

    @Test
    void compressedRecordsThatDoNotMatchTheHeaderCountAreACorruptMessage() throws IOException {
        for (Compression codec : CODECS) {
            byte[] z = Batches.compress(codec, Batches.inner(template()));
            assertRejected(ErrorCode.CORRUPT_MESSAGE, Batches.bytes(Batches.withPayload(template(), codec.id, 4, z)));
            assertRejected(ErrorCode.CORRUPT_MESSAGE, Batches.bytes(Batches.withPayload(template(), codec.id, 2, z)));
        }
    }

    @Test
    void aCompressedBatchOverTheInnerLimitIsMessageTooLarge() throws IOException {
        // maxBatchBytes 2048 here: at most 16 x 2048 = 32 KiB after decompression; 35 records of 1,000 bytes (mostly zeros)
        ByteBuffer big = Batches.withValueSize(7L, 0, 2, 35, 1_000L, 1_000);
        // snappy compresses at most ~20:1, so a snappy batch under 2 KiB cannot reach 32 KiB: its inner limit is
        // tested in CompressedRecordsTest
        for (Compression codec : new Compression[] {Compression.GZIP, Compression.LZ4, Compression.ZSTD}) {
            byte[] z = Batches.compress(codec, Batches.inner(big));
            assertTrue(z.length < 2048 - RecordBatch.HEADER_SIZE, codec + ": " + z.length);
            assertRejected(ErrorCode.MESSAGE_TOO_LARGE, Batches.bytes(Batches.withPayload(big, codec.id, 35, z)));
        }
    }

    @Test
    void aTransactionalBatchIsAnInvalidRecord() throws IOException {
        assertRejected(ErrorCode.INVALID_RECORD,
            validWith(b -> b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) RecordBatch.TRANSACTIONAL_MASK)));
    }

    @Test
    void aControlBatchIsAnInvalidRecord() throws IOException {
        assertRejected(ErrorCode.INVALID_RECORD,
            validWith(b -> b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) RecordBatch.CONTROL_MASK)));
    }

    @Test
    void malformedRecordsUnderAValidCrcAreACorruptMessage() throws IOException {
        // the first record's length varint claims more bytes than the batch holds
        assertRejected(ErrorCode.CORRUPT_MESSAGE, validWith(b -> b.put(RecordBatch.RECORDS_OFFSET, (byte) 0x7E)));
    }

    @Test
    void aRecordWithAWrongOffsetDeltaIsACorruptMessage() throws IOException {
        // record 0: length(1) attributes(1) timestampDelta(1) offsetDelta: zigzag 0 -> 1 (i.e. 1, not 0)
        assertRejected(ErrorCode.CORRUPT_MESSAGE, validWith(b -> b.put(RecordBatch.RECORDS_OFFSET + 3, (byte) 2)));
    }

    @Test
    void anIdempotentBatchWithANegativeSequenceIsAnInvalidRecord() throws IOException {
        assertRejected(ErrorCode.INVALID_RECORD,
            validWith(b -> b.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, -1)));
    }

    @Test
    void aProducerIdBelowMinusOneIsAnInvalidRecord() throws IOException {
        assertRejected(ErrorCode.INVALID_RECORD, validWith(b -> b.putLong(RecordBatch.PRODUCER_ID_OFFSET, -5L)));
    }

    @Test
    void aStaleEpochIsRejectedBeforeTheRecordsAreLookedAt() throws IOException {
        log.appendOk(Batches.idempotent(7L, 1, 0, 1));
        nextSequence = 1;
        byte[] bytes = Batches.bytes(Batches.idempotent(7L, 0, 2, 3));
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        buf.put(RecordBatch.RECORDS_OFFSET, (byte) 0x7E);
        new RecordBatch(buf, 0).updateCrc();
        PartitionLog p = log.partition();
        byte[] fileBefore = Files.readAllBytes(LogFiles.logFile(log.partitionDir(), 0));
        AppendResult result = p.append(Batches.direct(bytes), 0, bytes.length);
        assertEquals(ErrorCode.INVALID_PRODUCER_EPOCH, result.error());
        assertTrue(Arrays.equals(fileBefore, Files.readAllBytes(LogFiles.logFile(log.partitionDir(), 0))));
    }

    @Test
    void aDuplicateIsRecognisedBeforeAnyPerRecordWork() {
        // same producer fields and record count as the batch appended in setUp, records mangled (valid CRC):
        // had the records been walked, this would be CORRUPT_MESSAGE
        byte[] bytes = Batches.bytes(Batches.idempotent(7L, 0, 0, 2));
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        buf.put(RecordBatch.RECORDS_OFFSET, (byte) 0x7E);
        new RecordBatch(buf, 0).updateCrc();
        AppendResult result = log.partition().append(Batches.direct(bytes), 0, bytes.length);
        assertEquals(ErrorCode.NONE, result.error());
        assertTrue(result.duplicate());
        assertEquals(0L, result.baseOffset());
        assertEquals(2L, log.partition().logEndOffset());
    }

    @Test
    void aBatchInTheMiddleOfALargerBufferIsAppendedFromItsOffset() {
        byte[] bytes = Batches.bytes(Batches.idempotent(7L, 0, 2, 3));
        ByteBuffer big = ByteBuffer.allocateDirect(bytes.length + 100);
        big.position(37);
        big.put(bytes);
        big.position(5).limit(37 + bytes.length + 10);
        AppendResult result = log.partition().append(big, 37, bytes.length);
        assertEquals(ErrorCode.NONE, result.error(), result.errorMessage());
        assertEquals(2L, result.baseOffset());
        assertEquals(5, big.position(), "the caller's position is restored");
        assertEquals(37 + bytes.length + 10, big.limit(), "the caller's limit is restored");
    }
}
