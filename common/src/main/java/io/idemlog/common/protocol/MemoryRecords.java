package io.idemlog.common.protocol;

import java.nio.ByteBuffer;

/**
 * Records held in a {@link ByteBuffer}: the bytes between its position and limit. The buffer is a view, not a
 * copy; whoever created it keeps ownership of the memory.
 */
public final class MemoryRecords implements Records {
    private final ByteBuffer buffer;

    public MemoryRecords(ByteBuffer buffer) {
        this.buffer = buffer;
    }

    /** The bytes, from position to limit. Callers must not move the position of the returned buffer. */
    public ByteBuffer buffer() {
        return buffer;
    }

    @Override
    public int sizeInBytes() {
        return buffer.remaining();
    }

    @Override
    public String toString() {
        return "MemoryRecords(" + buffer.remaining() + " bytes)";
    }
}
