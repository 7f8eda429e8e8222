package io.idemlog.common.record;

import java.nio.ByteBuffer;

/**
 * Walks the records of one uncompressed batch without allocating: after each successful {@link #next()}, the
 * fields describe the current record, and key/value are given as index and length in {@link #buffer()}
 * (length -1 = null). Copying them out ({@link #key()}, {@link #value()}) is for tests and tools.
 */
public final class RecordReader {
    private final RecordBatch batch = new RecordBatch();
    private final Varints.Cursor cursor = new Varints.Cursor();
    private ByteBuffer buffer;
    private int nextIndex;
    private int end;
    private int remaining;

    public long offset;
    public long timestamp;
    public int keyIndex;
    public int keyLength;
    public int valueIndex;
    public int valueLength;
    public int headerCount;
    public int headersIndex;

    /** Positions the reader before the first record of the batch at {@code batchOffset}. */
    public RecordReader wrap(ByteBuffer buffer, int batchOffset) {
        this.buffer = buffer;
        batch.wrap(buffer, batchOffset);
        if (batch.compression() != 0) {
            throw new IllegalArgumentException("compressed batches are not supported");
        }
        nextIndex = batchOffset + RecordBatch.RECORDS_OFFSET;
        end = batchOffset + batch.sizeInBytes();
        remaining = batch.recordsCount();
        return this;
    }

    public RecordBatch batch() {
        return batch;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    /** Advances to the next record; false at the end. Throws IllegalStateException on a malformed record. */
    public boolean next() {
        if (remaining <= 0) {
            return false;
        }
        cursor.wrap(buffer, nextIndex, end);
        int length = cursor.varint();
        int recordEnd = cursor.next + length;
        cursor.skip(1);
        long timestampDelta = cursor.varlong();
        int offsetDelta = cursor.varint();
        keyLength = cursor.varint();
        keyIndex = cursor.next;
        cursor.skip(Math.max(0, keyLength));
        valueLength = cursor.varint();
        valueIndex = cursor.next;
        cursor.skip(Math.max(0, valueLength));
        headerCount = cursor.varint();
        headersIndex = cursor.next;
        if (cursor.failed() || recordEnd > end) {
            throw new IllegalStateException("malformed record at index " + nextIndex);
        }
        offset = batch.baseOffset() + offsetDelta;
        timestamp = batch.baseTimestamp() + timestampDelta;
        nextIndex = recordEnd;
        remaining--;
        return true;
    }

    public byte[] key() {
        return copy(keyIndex, keyLength);
    }

    public byte[] value() {
        return copy(valueIndex, valueLength);
    }

    private byte[] copy(int index, int length) {
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        buffer.get(index, bytes, 0, length);
        return bytes;
    }
}
