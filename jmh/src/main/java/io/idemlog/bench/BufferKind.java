package io.idemlog.bench;

import java.nio.ByteBuffer;

/**
 * Where a benchmark's bytes live. The difference matters: the server decodes requests from Netty's pooled direct
 * buffers, while tests and some client paths use heap arrays, and several codec paths branch on
 * {@link ByteBuffer#hasArray()} (CRC-32C, string decoding).
 */
public enum BufferKind {
    HEAP,
    DIRECT;

    public ByteBuffer allocate(int capacity) {
        return this == HEAP ? ByteBuffer.allocate(capacity) : ByteBuffer.allocateDirect(capacity);
    }

    /** A copy of {@code source}'s remaining bytes in a new buffer of this kind, position 0, limit = length. */
    public ByteBuffer copyOf(ByteBuffer source) {
        ByteBuffer copy = allocate(source.remaining());
        copy.put(source.duplicate()).flip();
        return copy;
    }
}
