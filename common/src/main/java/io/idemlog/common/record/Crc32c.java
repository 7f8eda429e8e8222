package io.idemlog.common.record;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli) as used by RecordBatch v2. Backed by {@link CRC32C}, which the JIT turns into the CPU's
 * crc32 instructions.
 */
public final class Crc32c {
    private Crc32c() {
    }

    /** CRC-32C of {@code length} bytes of {@code buf} from absolute index {@code offset}, as an unsigned value. */
    public static long compute(ByteBuffer buf, int offset, int length) {
        CRC32C crc = new CRC32C();
        if (buf.hasArray()) {
            crc.update(buf.array(), buf.arrayOffset() + offset, length);
        } else {
            // CRC32C reads from position to limit: move them, then put them back (the buffer is not shared
            // with another thread while we compute).
            int position = buf.position();
            int limit = buf.limit();
            buf.limit(offset + length).position(offset);
            crc.update(buf);
            buf.limit(limit).position(position);
        }
        return crc.getValue();
    }

    public static long compute(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return crc.getValue();
    }
}
