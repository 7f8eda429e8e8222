package io.idemlog.common.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Writes Kafka wire types (big-endian) into a growable heap buffer.
 *
 * <p>RECORDS fields are not copied: {@link #writeRecords} writes the length prefix and remembers where the records
 * belong ({@link #recordsAt}). A transport then sends {@code [0, hole0) records0 [hole0, hole1) records1 ...} as
 * separate buffers or file regions, so record bytes go from their source (a pooled client batch, a segment file)
 * to the socket without passing through this buffer. {@link #toFlatBuffer()} copies them in, for tests and tools.
 *
 * <p>Not thread-safe. Reusable after {@link #reset()}.
 */
public final class WireWriter {
    /** A RECORDS payload and the index in this writer's bytes where it belongs. */
    public record RecordsHole(int position, Records records) {
    }

    private ByteBuffer buffer;
    private final List<RecordsHole> holes = new ArrayList<>(2);
    private int recordsBytes;

    public WireWriter() {
        this(256);
    }

    public WireWriter(int initialCapacity) {
        buffer = ByteBuffer.allocate(Math.max(16, initialCapacity));
    }

    private WireWriter(ByteBuffer buffer) {
        this.buffer = buffer;
    }

    public WireWriter reset() {
        buffer.clear();
        holes.clear();
        recordsBytes = 0;
        return this;
    }

    /** Bytes written into this writer's own buffer (records excluded). */
    public int position() {
        return buffer.position();
    }

    /** Total size on the wire: own bytes plus every records payload. */
    public int totalSize() {
        return buffer.position() + recordsBytes;
    }

    /** The bytes written so far, from 0 to {@link #position()}, as a read-only view. */
    public ByteBuffer bytes() {
        return buffer.asReadOnlyBuffer().flip();
    }

    /**
     * A copy of the bytes written so far (records excluded), in an array of exactly {@link #position()} bytes:
     * what outlives a writer that is reused.
     */
    public byte[] copyOfBytes() {
        return Arrays.copyOf(buffer.array(), buffer.position());
    }

    /**
     * A new writer holding a copy of this one's bytes (in a buffer of exactly that size) and the same records
     * holes: what outlives a writer that is reused, for a message with records.
     */
    public WireWriter detachedCopy() {
        WireWriter copy = new WireWriter(ByteBuffer.wrap(copyOfBytes()).position(buffer.position()));
        copy.holes.addAll(holes);
        copy.recordsBytes = recordsBytes;
        return copy;
    }

    /** The capacity of this writer's own buffer (it grows as needed; {@link #reset()} keeps it). */
    public int capacity() {
        return buffer.capacity();
    }

    public List<RecordsHole> recordsAt() {
        return holes;
    }

    private void ensure(int n) {
        if (buffer.remaining() < n) {
            int capacity = buffer.capacity();
            int needed = buffer.position() + n;
            while (capacity < needed) {
                capacity = capacity << 1;
                if (capacity <= 0) {
                    throw new IllegalStateException("message too large: " + needed);
                }
            }
            ByteBuffer bigger = ByteBuffer.allocate(capacity);
            buffer.flip();
            bigger.put(buffer);
            buffer = bigger;
        }
    }

    public WireWriter writeInt8(int v) {
        ensure(1);
        buffer.put((byte) v);
        return this;
    }

    public WireWriter writeBoolean(boolean v) {
        return writeInt8(v ? 1 : 0);
    }

    public WireWriter writeInt16(int v) {
        ensure(2);
        buffer.putShort((short) v);
        return this;
    }

    public WireWriter writeInt32(int v) {
        ensure(4);
        buffer.putInt(v);
        return this;
    }

    public WireWriter writeInt64(long v) {
        ensure(8);
        buffer.putLong(v);
        return this;
    }

    public WireWriter writeUuid(UUID v) {
        writeInt64(v.getMostSignificantBits());
        return writeInt64(v.getLeastSignificantBits());
    }

    /** Overwrites 4 bytes at an absolute index already written (e.g. a frame size prefix). */
    public WireWriter putInt32At(int index, int v) {
        buffer.putInt(index, v);
        return this;
    }

    public WireWriter writeUnsignedVarint(int v) {
        ensure(5);
        while ((v & 0xFFFFFF80) != 0) {
            buffer.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        buffer.put((byte) v);
        return this;
    }

    private void writeLength(int length, boolean compact, boolean int16) {
        if (compact) {
            writeUnsignedVarint(length + 1);
        } else if (int16) {
            writeInt16(length);
        } else {
            writeInt32(length);
        }
    }

    public WireWriter writeString(String s, boolean compact) {
        if (s == null) {
            throw new IllegalArgumentException("null for a non-nullable string");
        }
        return writeNullableString(s, compact);
    }

    public WireWriter writeNullableString(String s, boolean compact) {
        if (s == null) {
            writeLength(-1, compact, true);
            return this;
        }
        if (writeAscii(s, compact)) {
            return this;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (!compact && bytes.length > Short.MAX_VALUE) {
            throw new IllegalArgumentException("string longer than " + Short.MAX_VALUE + " bytes");
        }
        writeLength(bytes.length, compact, true);
        ensure(bytes.length);
        buffer.put(bytes);
        return this;
    }

    /**
     * Writes {@code s} with its length if it is all ASCII (its UTF-8 bytes are then its chars, one each), without
     * the byte array of {@link String#getBytes}; false, writing nothing, otherwise. Same bytes on the wire.
     */
    private boolean writeAscii(String s, boolean compact) {
        int length = s.length();
        if (!compact && length > Short.MAX_VALUE) {
            return false; // the general path refuses it
        }
        for (int i = 0; i < length; i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        writeLength(length, compact, true);
        ensure(length);
        for (int i = 0; i < length; i++) {
            buffer.put((byte) s.charAt(i));
        }
        return true;
    }

    public WireWriter writeNullableBytes(byte[] bytes, boolean compact) {
        if (bytes == null) {
            writeLength(-1, compact, false);
            return this;
        }
        writeLength(bytes.length, compact, false);
        return writeRaw(bytes);
    }

    public WireWriter writeRaw(byte[] bytes) {
        ensure(bytes.length);
        buffer.put(bytes);
        return this;
    }

    /** Writes a (COMPACT_)RECORDS length prefix and leaves a hole for the records themselves (no copy). */
    public WireWriter writeRecords(Records records, boolean compact) {
        if (records == null) {
            writeLength(-1, compact, false);
            return this;
        }
        int size = records.sizeInBytes();
        writeLength(size, compact, false);
        if (size > 0) {
            holes.add(new RecordsHole(buffer.position(), records));
            recordsBytes += size;
        }
        return this;
    }

    /** An array count, INT32 or UNSIGNED_VARINT(n+1); -1 writes a null array. */
    public WireWriter writeArrayLength(int count, boolean compact) {
        writeLength(count, compact, false);
        return this;
    }

    /** Writes a TAG_BUFFER holding the given raw fields (or none). */
    public WireWriter writeTaggedFields(RawTaggedFields fields) {
        if (fields == null || fields.fields().isEmpty()) {
            return writeUnsignedVarint(0);
        }
        writeUnsignedVarint(fields.fields().size());
        for (RawTaggedFields.Field f : fields.fields()) {
            writeUnsignedVarint(f.tag());
            writeUnsignedVarint(f.data().length);
            writeRaw(f.data());
        }
        return this;
    }

    /** Writes a TAG_BUFFER only when the version is flexible. */
    public WireWriter writeTaggedFieldsIf(boolean flexible, RawTaggedFields fields) {
        if (flexible) {
            writeTaggedFields(fields);
        } else if (fields != null && !fields.fields().isEmpty()) {
            throw new IllegalArgumentException("tagged fields in a non-flexible version");
        }
        return this;
    }

    /**
     * The whole message as one buffer, records copied in place. Only for in-memory records; for tests, tools and
     * small messages.
     */
    public ByteBuffer toFlatBuffer() {
        ByteBuffer out = ByteBuffer.allocate(totalSize());
        ByteBuffer own = bytes();
        int from = 0;
        for (RecordsHole hole : holes) {
            out.put(own.duplicate().position(from).limit(hole.position()));
            if (!(hole.records() instanceof MemoryRecords mr)) {
                throw new IllegalStateException("cannot flatten " + hole.records());
            }
            out.put(mr.buffer().duplicate());
            from = hole.position();
        }
        out.put(own.duplicate().position(from));
        return out.flip();
    }

    /** Bytes an UNSIGNED_VARINT of this value takes. */
    public static int sizeOfUnsignedVarint(int v) {
        int bytes = 1;
        while ((v & 0xFFFFFF80) != 0) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }
}
