package io.idemlog.common.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Builds one uncompressed RecordBatch v2 in place, in a region of a {@link ByteBuffer} the caller owns (a pooled
 * buffer on the client). Records are encoded directly into the region: no intermediate objects, no allocation per
 * record (header keys aside, which are UTF-8 encoded).
 *
 * <p>Life cycle: {@link #init} -> {@link #tryAppend}... -> {@link #close()}. The closed batch carries producer id,
 * epoch and sequence -1 and a valid CRC; an idempotent producer stamps its state later, when the batch is first
 * drained, with {@link RecordBatch#stampProducerState} (which recomputes the CRC).
 *
 * <p>Not thread-safe.
 */
public final class RecordBatchBuilder {
    private ByteBuffer buffer;
    private int start;
    private int limit;
    private int position;
    private int count;
    private long baseTimestamp;
    private long maxTimestamp;
    private boolean closed = true;

    /**
     * Starts a batch at {@code buffer[start, start + capacity)}. The region must hold at least the header.
     */
    public RecordBatchBuilder init(ByteBuffer buffer, int start, int capacity) {
        if (capacity < RecordBatch.HEADER_SIZE) {
            throw new IllegalArgumentException("capacity " + capacity + " below the batch header size");
        }
        this.buffer = buffer;
        this.start = start;
        this.limit = start + capacity;
        this.position = start + RecordBatch.RECORDS_OFFSET;
        this.count = 0;
        this.baseTimestamp = 0L;
        this.maxTimestamp = -1L;
        this.closed = false;
        return this;
    }

    public int recordCount() {
        return count;
    }

    /** Bytes the batch takes so far (header included). */
    public int sizeInBytes() {
        return position - start;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Size on the wire of a record with these fields when it is the {@code offsetDelta}-th of its batch. */
    public static int sizeOfRecord(int offsetDelta, long timestampDelta, int keyLength, int valueLength,
                                   Header[] headers) {
        int body = bodySize(offsetDelta, timestampDelta, keyLength, valueLength, headers);
        return Varints.sizeOfVarint(body) + body;
    }

    /** An upper bound of a record's size, valid whatever its position and timestamp in a batch. */
    public static int estimateSizeUpperBound(int keyLength, int valueLength, Header[] headers) {
        return sizeOfRecord(Integer.MAX_VALUE, Long.MAX_VALUE, keyLength, valueLength, headers);
    }

    private static int bodySize(int offsetDelta, long timestampDelta, int keyLength, int valueLength,
                                Header[] headers) {
        int size = 1 + Varints.sizeOfVarlong(timestampDelta) + Varints.sizeOfVarint(offsetDelta);
        size += keyLength < 0 ? 1 : Varints.sizeOfVarint(keyLength) + keyLength;
        size += valueLength < 0 ? 1 : Varints.sizeOfVarint(valueLength) + valueLength;
        int n = headers == null ? 0 : headers.length;
        size += Varints.sizeOfVarint(n);
        for (int i = 0; i < n; i++) {
            int kl = utf8Length(headers[i].key());
            byte[] v = headers[i].value();
            size += Varints.sizeOfVarint(kl) + kl;
            size += v == null ? 1 : Varints.sizeOfVarint(v.length) + v.length;
        }
        return size;
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /**
     * Appends a record if it fits in the region; returns false (and changes nothing) when it does not.
     * {@code key} and {@code value} may be null; {@code headers} may be null or empty.
     */
    public boolean tryAppend(long timestamp, byte[] key, byte[] value, Header[] headers) {
        if (closed) {
            throw new IllegalStateException("batch is closed");
        }
        if (count == 0) {
            baseTimestamp = timestamp;
        }
        long timestampDelta = timestamp - baseTimestamp;
        int keyLength = key == null ? -1 : key.length;
        int valueLength = value == null ? -1 : value.length;
        int body = bodySize(count, timestampDelta, keyLength, valueLength, headers);
        int total = Varints.sizeOfVarint(body) + body;
        if (total > limit - position) {
            return false;
        }
        int i = Varints.putVarint(buffer, position, body);
        buffer.put(i++, (byte) 0); // record attributes: unused
        i = Varints.putVarlong(buffer, i, timestampDelta);
        i = Varints.putVarint(buffer, i, count);
        i = putBytes(i, key);
        i = putBytes(i, value);
        int n = headers == null ? 0 : headers.length;
        i = Varints.putVarint(buffer, i, n);
        for (int h = 0; h < n; h++) {
            i = putBytes(i, headers[h].key().getBytes(StandardCharsets.UTF_8));
            i = putBytes(i, headers[h].value());
        }
        position = i;
        count++;
        if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        return true;
    }

    private int putBytes(int index, byte[] bytes) {
        if (bytes == null) {
            return Varints.putVarint(buffer, index, -1);
        }
        index = Varints.putVarint(buffer, index, bytes.length);
        buffer.put(index, bytes, 0, bytes.length);
        return index + bytes.length;
    }

    /**
     * Writes the header (producer fields -1, CRC computed) and returns the batch size in bytes. The builder must
     * hold at least one record.
     */
    public int close() {
        if (closed) {
            throw new IllegalStateException("batch already closed");
        }
        if (count == 0) {
            throw new IllegalStateException("empty batch");
        }
        int size = position - start;
        buffer.putLong(start + RecordBatch.BASE_OFFSET_OFFSET, 0L);
        buffer.putInt(start + RecordBatch.LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        buffer.putInt(start + RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, -1);
        buffer.put(start + RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
        buffer.putShort(start + RecordBatch.ATTRIBUTES_OFFSET, (short) 0);
        buffer.putInt(start + RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
        buffer.putLong(start + RecordBatch.BASE_TIMESTAMP_OFFSET, baseTimestamp);
        buffer.putLong(start + RecordBatch.MAX_TIMESTAMP_OFFSET, maxTimestamp);
        buffer.putLong(start + RecordBatch.PRODUCER_ID_OFFSET, RecordBatch.NO_PRODUCER_ID);
        buffer.putShort(start + RecordBatch.PRODUCER_EPOCH_OFFSET, RecordBatch.NO_PRODUCER_EPOCH);
        buffer.putInt(start + RecordBatch.BASE_SEQUENCE_OFFSET, RecordBatch.NO_SEQUENCE);
        buffer.putInt(start + RecordBatch.RECORDS_COUNT_OFFSET, count);
        buffer.putInt(start + RecordBatch.CRC_OFFSET,
            (int) Crc32c.compute(buffer, start + RecordBatch.ATTRIBUTES_OFFSET, size - RecordBatch.ATTRIBUTES_OFFSET));
        closed = true;
        return size;
    }
}
