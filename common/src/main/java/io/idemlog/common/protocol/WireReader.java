package io.idemlog.common.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Reads Kafka wire types (big-endian) from a {@link ByteBuffer} between two indices, without moving the buffer's
 * own position. Every read checks the bytes that remain and throws {@link ProtocolException} on truncated or
 * malformed input, so a hostile frame can neither over-read nor make the decoder allocate an array it announces
 * but does not carry.
 *
 * <p>Not thread-safe: one reader per frame being decoded.
 */
public final class WireReader {
    private ByteBuffer buffer;
    private int position;
    private int limit;

    public WireReader() {
    }

    public WireReader(ByteBuffer buffer) {
        wrap(buffer, buffer.position(), buffer.limit());
    }

    /** Reads the bytes of {@code buffer} from {@code offset} (inclusive) to {@code limit} (exclusive). */
    public WireReader wrap(ByteBuffer buffer, int offset, int limit) {
        if (offset < 0 || limit > buffer.capacity() || offset > limit) {
            throw new IllegalArgumentException("bad range " + offset + ".." + limit);
        }
        this.buffer = buffer;
        this.position = offset;
        this.limit = limit;
        return this;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    public int position() {
        return position;
    }

    public int remaining() {
        return limit - position;
    }

    public boolean hasRemaining() {
        return position < limit;
    }

    private int advance(int n) {
        if (n < 0 || n > limit - position) {
            throw new ProtocolException("truncated input: need " + n + " bytes at " + position + ", have "
                + (limit - position));
        }
        int p = position;
        position += n;
        return p;
    }

    public void skip(int n) {
        advance(n);
    }

    public byte readInt8() {
        return buffer.get(advance(1));
    }

    public boolean readBoolean() {
        return readInt8() != 0;
    }

    public short readInt16() {
        return buffer.getShort(advance(2));
    }

    public int readInt32() {
        return buffer.getInt(advance(4));
    }

    public long readInt64() {
        return buffer.getLong(advance(8));
    }

    public UUID readUuid() {
        long hi = readInt64();
        long lo = readInt64();
        return new UUID(hi, lo);
    }

    /** An UNSIGNED_VARINT: LEB128, 7 bits per byte, low group first; at most 5 bytes for 32 bits. */
    public int readUnsignedVarint() {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = readInt8();
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new ProtocolException("unsigned varint longer than 5 bytes at " + position);
    }

    /** A length or count: INT16/INT32 for classic encodings, UNSIGNED_VARINT(n+1) for compact ones; -1 is null. */
    private int readLength(boolean compact, boolean int16) {
        if (compact) {
            return readUnsignedVarint() - 1;
        }
        return int16 ? readInt16() : readInt32();
    }

    /** A STRING or COMPACT_STRING that may not be null. */
    public String readString(boolean compact) {
        String s = readNullableString(compact);
        if (s == null) {
            throw new ProtocolException("null string where a value is required at " + position);
        }
        return s;
    }

    /**
     * A STRING or COMPACT_STRING that may not be null, returned as {@code previous} itself (no new String) when its
     * bytes are exactly those of {@code previous}, an ASCII string: for names that repeat request after request (a
     * topic name). See {@link #readNullableString(boolean, String)}.
     */
    public String readString(boolean compact, String previous) {
        String s = readNullableString(compact, previous);
        if (s == null) {
            throw new ProtocolException("null string where a value is required at " + position);
        }
        return s;
    }

    /** A NULLABLE_STRING or COMPACT_NULLABLE_STRING. */
    public String readNullableString(boolean compact) {
        return readNullableString(compact, null);
    }

    /**
     * A NULLABLE_STRING or COMPACT_NULLABLE_STRING, returned as {@code previous} itself (no new String) when its
     * bytes are exactly those of {@code previous} (a client id, a topic name repeating request after request). Only
     * an all-ASCII string is recognized (compared byte by byte with its chars, nothing allocated): ASCII bytes
     * decode as UTF-8 to exactly those chars, so the value returned is equal to the one decoded. Anything else
     * (null, another length, a non-ASCII byte or char, a difference) is decoded as by {@link #readNullableString}.
     */
    public String readNullableString(boolean compact, String previous) {
        int length = readLength(compact, true);
        if (length < -1) {
            throw new ProtocolException("negative string length " + length);
        }
        if (length == -1) {
            return null;
        }
        int p = advance(length);
        if (previous != null && sameAscii(p, length, previous)) {
            return previous;
        }
        if (buffer.hasArray()) {
            return new String(buffer.array(), buffer.arrayOffset() + p, length, StandardCharsets.UTF_8);
        }
        byte[] bytes = new byte[length];
        buffer.get(p, bytes, 0, length);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Whether the {@code length} bytes at {@code p} are all ASCII and equal to {@code s}'s chars. */
    private boolean sameAscii(int p, int length, String s) {
        if (s.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            byte b = buffer.get(p + i);
            if (b < 0 || b != s.charAt(i)) { // b < 0: not ASCII (a UTF-8 lead or continuation byte)
                return false;
            }
        }
        return true;
    }

    /** A (COMPACT_)BYTES field copied into an array, or null. */
    public byte[] readNullableBytes(boolean compact) {
        int length = readLength(compact, false);
        if (length < -1) {
            throw new ProtocolException("negative bytes length " + length);
        }
        if (length == -1) {
            return null;
        }
        int p = advance(length); // bounds first: a forged length must not allocate what the frame cannot hold
        byte[] bytes = new byte[length];
        buffer.get(p, bytes, 0, length);
        return bytes;
    }

    /**
     * A (COMPACT_)RECORDS field as a view of the underlying buffer (no copy), or null. The view's position and limit
     * delimit the records.
     */
    public MemoryRecords readRecords(boolean compact) {
        int length = readLength(compact, false);
        if (length < -1) {
            throw new ProtocolException("negative records length " + length);
        }
        if (length == -1) {
            return null;
        }
        int p = advance(length);
        return new MemoryRecords(buffer.slice(p, length));
    }

    /**
     * An array count (INT32, or UNSIGNED_VARINT n+1 when compact); -1 means null. The count is checked against the
     * bytes that remain, given that every element takes at least {@code minElementSize} bytes, so a forged count
     * cannot make the caller allocate more than the frame could hold.
     */
    public int readArrayLength(boolean compact, int minElementSize) {
        int count = readLength(compact, false);
        if (count < -1) {
            throw new ProtocolException("negative array length " + count);
        }
        if (count > 0 && (long) count * Math.max(1, minElementSize) > remaining()) {
            throw new ProtocolException("array of " + count + " elements does not fit in the " + remaining()
                + " bytes left");
        }
        return count;
    }

    /** An array count that may not be null. */
    public int readNonNullArrayLength(boolean compact, int minElementSize) {
        int count = readArrayLength(compact, minElementSize);
        if (count < 0) {
            throw new ProtocolException("null array where a value is required at " + position);
        }
        return count;
    }

    /**
     * Reads a TAG_BUFFER. Tags this reader's caller does not interpret are returned raw (for lossless re-encoding);
     * returns null when the buffer is empty, which is the common case.
     */
    public RawTaggedFields readTaggedFields() {
        int n = readUnsignedVarint();
        if (n == 0) {
            return null;
        }
        if (n < 0 || n > remaining()) {
            throw new ProtocolException("bad tagged field count " + n);
        }
        RawTaggedFields fields = new RawTaggedFields();
        for (int i = 0; i < n; i++) {
            int tag = readUnsignedVarint();
            int size = readUnsignedVarint();
            if (size < 0) {
                throw new ProtocolException("bad tagged field size " + size);
            }
            int p = advance(size); // bounds first: a forged size must not allocate what the frame cannot hold
            byte[] data = new byte[size];
            buffer.get(p, data, 0, size);
            fields.add(tag, data);
        }
        return fields;
    }

    /** Reads a TAG_BUFFER only when the version is flexible. */
    public RawTaggedFields readTaggedFieldsIf(boolean flexible) {
        return flexible ? readTaggedFields() : null;
    }

    /** Fails unless every byte of the frame was consumed; trailing garbage is a malformed request. */
    public void expectEnd() {
        if (position != limit) {
            throw new ProtocolException((limit - position) + " unexpected trailing bytes");
        }
    }
}
