package io.idemlog.common.record;

import java.nio.ByteBuffer;

/**
 * Flyweight over one RecordBatch v2 (magic 2) in a {@link ByteBuffer}; absolute indices only, no allocation.
 *
 * <pre>
 *  offset size field
 *       0    8 baseOffset            assigned by the server; producers send 0
 *       8    4 batchLength           bytes after this field (= total size - 12)
 *      12    4 partitionLeaderEpoch  overwritten by the server
 *      16    1 magic                 2
 *      17    4 crc                   CRC-32C of [21, end of batch)
 *      21    2 attributes            bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 *      23    4 lastOffsetDelta       records - 1 for producer batches
 *      27    8 baseTimestamp         timestamp of the first record
 *      35    8 maxTimestamp          largest record timestamp
 *      43    8 producerId            -1 when not idempotent
 *      51    2 producerEpoch         -1 when not idempotent
 *      53    4 baseSequence          -1 when not idempotent
 *      57    4 recordsCount
 *      61    . records               (one compressed blob when compression != 0)
 * </pre>
 *
 * Why the server can store a batch as it arrived: the CRC starts at attributes (21), so baseOffset and
 * partitionLeaderEpoch, the only fields the server assigns, can be patched in place without re-encoding or
 * recomputing the CRC. The producer fields (43-60) ARE covered: a client that stamps its sequence at drain time
 * must recompute the CRC ({@link #stampProducerState}).
 */
public final class RecordBatch {
    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = BASE_OFFSET_OFFSET + 8;
    /** Bytes before the part counted by batchLength: baseOffset and batchLength themselves. */
    public static final int LOG_OVERHEAD = LENGTH_OFFSET + 4;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = LENGTH_OFFSET + 4;
    public static final int MAGIC_OFFSET = PARTITION_LEADER_EPOCH_OFFSET + 4;
    public static final int CRC_OFFSET = MAGIC_OFFSET + 1;
    public static final int ATTRIBUTES_OFFSET = CRC_OFFSET + 4;
    public static final int LAST_OFFSET_DELTA_OFFSET = ATTRIBUTES_OFFSET + 2;
    public static final int BASE_TIMESTAMP_OFFSET = LAST_OFFSET_DELTA_OFFSET + 4;
    public static final int MAX_TIMESTAMP_OFFSET = BASE_TIMESTAMP_OFFSET + 8;
    public static final int PRODUCER_ID_OFFSET = MAX_TIMESTAMP_OFFSET + 8;
    public static final int PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + 8;
    public static final int BASE_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + 2;
    public static final int RECORDS_COUNT_OFFSET = BASE_SEQUENCE_OFFSET + 4;
    public static final int RECORDS_OFFSET = RECORDS_COUNT_OFFSET + 4;
    /** Size of the batch header; a batch with no records is exactly this long. */
    public static final int HEADER_SIZE = RECORDS_OFFSET;

    public static final byte MAGIC = 2;
    public static final int COMPRESSION_MASK = 0x07;
    public static final int TIMESTAMP_TYPE_MASK = 0x08;
    public static final int TRANSACTIONAL_MASK = 0x10;
    public static final int CONTROL_MASK = 0x20;

    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;

    /**
     * Outcome of {@link #validate}: the first problem found, in the order they are checked. The one header check of
     * the code base: the server's produce path ({@code ProduceBatchCheck} maps these to Kafka error codes), segment
     * recovery and reads, the offline verifier and the test kit's log reader all call {@link #validate}.
     */
    public enum Validation {
        VALID,
        /** Fewer bytes than a header, or than batchLength announces. */
        TRUNCATED,
        /** batchLength smaller than a header: no batch can be this short. */
        BAD_LENGTH,
        /** A whole batch, larger than the caller's limit. */
        TOO_LARGE,
        BAD_MAGIC,
        BAD_CRC,
        /**
         * recordsCount < 1, or lastOffsetDelta != recordsCount - 1 ({@link #validateStored}: recordsCount < 0 or
         * above lastOffsetDelta + 1).
         */
        BAD_COUNT,
        /** The records section does not parse as exactly recordsCount well-formed records. */
        BAD_RECORDS
    }

    private ByteBuffer buffer;
    private int offset;

    public RecordBatch() {
    }

    public RecordBatch(ByteBuffer buffer, int offset) {
        wrap(buffer, offset);
    }

    public RecordBatch wrap(ByteBuffer buffer, int offset) {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    public int offset() {
        return offset;
    }

    public long baseOffset() {
        return buffer.getLong(offset + BASE_OFFSET_OFFSET);
    }

    public void baseOffset(long baseOffset) {
        buffer.putLong(offset + BASE_OFFSET_OFFSET, baseOffset);
    }

    public int batchLength() {
        return buffer.getInt(offset + LENGTH_OFFSET);
    }

    /** Total size of the batch in bytes, header included. */
    public int sizeInBytes() {
        return LOG_OVERHEAD + batchLength();
    }

    public int partitionLeaderEpoch() {
        return buffer.getInt(offset + PARTITION_LEADER_EPOCH_OFFSET);
    }

    public void partitionLeaderEpoch(int epoch) {
        buffer.putInt(offset + PARTITION_LEADER_EPOCH_OFFSET, epoch);
    }

    public byte magic() {
        return buffer.get(offset + MAGIC_OFFSET);
    }

    /** The stored CRC, unsigned. */
    public long crc() {
        return buffer.getInt(offset + CRC_OFFSET) & 0xFFFFFFFFL;
    }

    /** The CRC of the bytes the CRC covers, as they are now. */
    public long computeCrc() {
        return Crc32c.compute(buffer, offset + ATTRIBUTES_OFFSET, sizeInBytes() - ATTRIBUTES_OFFSET);
    }

    public boolean isCrcValid() {
        return crc() == computeCrc();
    }

    public short attributes() {
        return buffer.getShort(offset + ATTRIBUTES_OFFSET);
    }

    /** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
    public int compression() {
        return attributes() & COMPRESSION_MASK;
    }

    public boolean isLogAppendTime() {
        return (attributes() & TIMESTAMP_TYPE_MASK) != 0;
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_MASK) != 0;
    }

    public boolean isControl() {
        return (attributes() & CONTROL_MASK) != 0;
    }

    public int lastOffsetDelta() {
        return buffer.getInt(offset + LAST_OFFSET_DELTA_OFFSET);
    }

    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    public long baseTimestamp() {
        return buffer.getLong(offset + BASE_TIMESTAMP_OFFSET);
    }

    public long maxTimestamp() {
        return buffer.getLong(offset + MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return buffer.getLong(offset + PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return buffer.getShort(offset + PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return buffer.getInt(offset + BASE_SEQUENCE_OFFSET);
    }

    /** Last sequence of the batch, wrapping after Integer.MAX_VALUE to 0; -1 when the batch has no sequence. */
    public int lastSequence() {
        int base = baseSequence();
        return base < 0 ? NO_SEQUENCE : Sequences.lastSequence(base, lastOffsetDelta());
    }

    public int recordsCount() {
        return buffer.getInt(offset + RECORDS_COUNT_OFFSET);
    }

    /**
     * Stamps producer id, epoch and base sequence and recomputes the CRC (they lie inside the CRC's range).
     */
    public void stampProducerState(long producerId, short producerEpoch, int baseSequence) {
        buffer.putLong(offset + PRODUCER_ID_OFFSET, producerId);
        buffer.putShort(offset + PRODUCER_EPOCH_OFFSET, producerEpoch);
        buffer.putInt(offset + BASE_SEQUENCE_OFFSET, baseSequence);
        updateCrc();
    }

    /**
     * Makes this a LogAppendTime batch stamped {@code appendTimeMs}, as Kafka's broker does for a topic with
     * message.timestamp.type=LogAppendTime: the timestamp-type attribute bit set, maxTimestamp = the append time (which
     * consumers then take as every record's timestamp; the records and baseTimestamp stay as produced), and the CRC
     * recomputed (both lie inside its range). Works the same on compressed batches: only the header changes.
     */
    public void stampLogAppendTime(long appendTimeMs) {
        buffer.putShort(offset + ATTRIBUTES_OFFSET, (short) (attributes() | TIMESTAMP_TYPE_MASK));
        buffer.putLong(offset + MAX_TIMESTAMP_OFFSET, appendTimeMs);
        updateCrc();
    }

    public void updateCrc() {
        buffer.putInt(offset + CRC_OFFSET, (int) computeCrc());
    }

    /**
     * Checks the header of the batch at this flyweight's offset, given that {@code available} bytes are readable
     * from it and that a batch may not exceed {@code maxSize} bytes. Checks, in order: enough bytes for a header,
     * a batchLength of at least a header, the whole batch available, its size within {@code maxSize}, magic, CRC,
     * and the record count against lastOffsetDelta. Never reads outside {@code [offset, offset + available)} and
     * never throws for any content of those bytes. Does not look at individual records (see
     * {@link #validateRecords}) nor at baseOffset (the caller knows which offset it expects).
     */
    public Validation validate(int available, int maxSize) {
        return validate(available, maxSize, false);
    }

    /**
     * {@link #validate} for a batch read back from a log, where records may have been removed leaving offset holes
     * (idemlog's de-duplication keys, Kafka's compaction): the batch keeps its offset range (lastOffsetDelta) with
     * any number of records from 0 to lastOffsetDelta + 1. Every other check is the same.
     */
    public Validation validateStored(int available, int maxSize) {
        return validate(available, maxSize, true);
    }

    private Validation validate(int available, int maxSize, boolean holes) {
        if (available < HEADER_SIZE) {
            return Validation.TRUNCATED;
        }
        long size = (long) batchLength() + LOG_OVERHEAD;
        if (size < HEADER_SIZE) {
            return Validation.BAD_LENGTH;
        }
        if (size > available) {
            return Validation.TRUNCATED;
        }
        if (size > maxSize) {
            return Validation.TOO_LARGE;
        }
        if (magic() != MAGIC) {
            return Validation.BAD_MAGIC;
        }
        if (!isCrcValid()) {
            return Validation.BAD_CRC;
        }
        int count = recordsCount();
        if (holes ? count < 0 || lastOffsetDelta() < 0 || count - 1 > lastOffsetDelta()
            : count < 1 || lastOffsetDelta() != count - 1) {
            return Validation.BAD_COUNT;
        }
        return Validation.VALID;
    }

    /**
     * Why {@link #validate} answered {@code result}, in words naming the fields (for error messages and reports);
     * null for VALID. Reads only what {@code validate} read to reach that answer.
     */
    public String describe(Validation result, int available, int maxSize) {
        return switch (result) {
            case VALID -> null;
            case TRUNCATED -> available < HEADER_SIZE
                ? available + " bytes, less than a batch header (" + HEADER_SIZE + ")"
                : "batchLength " + batchLength() + " runs past the " + available + " bytes available";
            case BAD_LENGTH -> "batchLength " + batchLength() + " is shorter than a batch header";
            case TOO_LARGE -> "batch of " + sizeInBytes() + " bytes is larger than the limit of " + maxSize;
            case BAD_MAGIC -> "magic " + magic() + " (only 2 is supported)";
            case BAD_CRC -> "CRC mismatch (stored " + crc() + ", computed " + computeCrc() + ")";
            case BAD_COUNT -> "recordsCount " + recordsCount() + " does not match lastOffsetDelta "
                + lastOffsetDelta();
            case BAD_RECORDS -> "the records section does not parse as " + recordsCount() + " records";
        };
    }

    /**
     * Where {@link #validateRecords(Varints.Cursor, byte[], RecordSink)} found a well-formed record, so that a caller
     * that needs each record (the de-duplication key of a partition) does not walk the batch a second time.
     */
    public interface RecordSink {
        /**
         * Record {@code index} is bytes [{@code start}, {@code end}) of the buffer (its length varint included),
         * has this timestamp delta, and the value of its first header with the name asked for is
         * {@code headerValueLength} bytes at {@code headerValueIndex} ({@code headerValueLength} -1: no such header,
         * or a null value). Called in record order, while the walk goes on: a later record may still make the
         * batch invalid.
         */
        void record(int index, int start, int end, long timestampDelta, int headerValueIndex, int headerValueLength);
    }

    /**
     * Walks every record of an uncompressed batch and checks that the records section holds exactly
     * {@link #recordsCount()} well-formed records with offset deltas 0, 1, 2, ... and nothing after them.
     * Call after {@link #validate} returned VALID. No allocation.
     */
    public boolean validateRecords(Varints.Cursor cursor) {
        return validateRecords(cursor, null, null);
    }

    /**
     * {@link #validateRecords(Varints.Cursor)}, telling {@code sink} (when not null) about each record and the value
     * of its first header named {@code header} (UTF-8 bytes; null: none asked for). No allocation.
     */
    public boolean validateRecords(Varints.Cursor cursor, byte[] header, RecordSink sink) {
        int end = offset + sizeInBytes();
        int count = recordsCount();
        cursor.wrap(buffer, offset + RECORDS_OFFSET, end);
        for (int i = 0; i < count; i++) {
            int recordStart = cursor.next;
            int length = cursor.varint();
            if (cursor.failed() || length < 1 || length > end - cursor.next) {
                return false;
            }
            int recordEnd = cursor.next + length;
            Varints.Cursor c = cursor.wrap(buffer, cursor.next, recordEnd);
            c.skip(1); // attributes
            long timestampDelta = c.varlong();
            int offsetDelta = c.varint();
            if (c.failed() || offsetDelta != i) {
                return false;
            }
            int keyLength = c.varint();
            if (c.failed() || keyLength < -1) {
                return false;
            }
            c.skip(Math.max(0, keyLength));
            int valueLength = c.varint();
            if (c.failed() || valueLength < -1) {
                return false;
            }
            c.skip(Math.max(0, valueLength));
            int headers = c.varint();
            if (c.failed() || headers < 0) {
                return false;
            }
            int foundIndex = -1;
            int foundLength = -1;
            for (int h = 0; h < headers; h++) {
                int hk = c.varint();
                if (c.failed() || hk < 0) {
                    return false;
                }
                int hkIndex = c.next;
                c.skip(hk);
                int hv = c.varint();
                if (c.failed() || hv < -1) {
                    return false;
                }
                if (header != null && foundIndex < 0 && hk == header.length && sameBytes(hkIndex, header)) {
                    foundIndex = c.next;
                    foundLength = hv;
                }
                c.skip(Math.max(0, hv));
            }
            if (c.failed() || c.next != recordEnd) {
                return false;
            }
            if (sink != null) {
                sink.record(i, recordStart, recordEnd, timestampDelta, foundIndex, foundLength);
            }
            cursor.wrap(buffer, recordEnd, end);
        }
        return cursor.next == end;
    }

    private boolean sameBytes(int index, byte[] bytes) {
        for (int k = 0; k < bytes.length; k++) {
            if (buffer.get(index + k) != bytes[k]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "RecordBatch(baseOffset=" + baseOffset() + ", size=" + sizeInBytes() + ", count=" + recordsCount()
            + ", producerId=" + producerId() + ", epoch=" + producerEpoch() + ", baseSequence=" + baseSequence()
            + ")";
    }
}
