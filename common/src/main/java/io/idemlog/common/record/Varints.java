package io.idemlog.common.record;

import java.nio.ByteBuffer;

/**
 * The record-level VARINT and VARLONG of RecordBatch v2: zigzag-encoded, then LEB128 (7 bits per byte, low group
 * first). Not to be confused with the protocol's UNSIGNED_VARINT, which is LEB128 without zigzag.
 * All methods use absolute indices and never move a buffer's position.
 */
public final class Varints {
    private Varints() {
    }

    public static int sizeOfVarint(int value) {
        int v = (value << 1) ^ (value >> 31);
        int bytes = 1;
        while ((v & 0xFFFFFF80) != 0) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    public static int sizeOfVarlong(long value) {
        long v = (value << 1) ^ (value >> 63);
        int bytes = 1;
        while ((v & 0xFFFFFFFFFFFFFF80L) != 0L) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    /** Writes a zigzag varint at {@code index}; returns the index after it. */
    public static int putVarint(ByteBuffer buf, int index, int value) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & 0xFFFFFF80) != 0) {
            buf.put(index++, (byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        buf.put(index++, (byte) v);
        return index;
    }

    /** Writes a zigzag varlong at {@code index}; returns the index after it. */
    public static int putVarlong(ByteBuffer buf, int index, long value) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & 0xFFFFFFFFFFFFFF80L) != 0L) {
            buf.put(index++, (byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        buf.put(index++, (byte) v);
        return index;
    }

    /**
     * Decodes zigzag varints and varlongs from a bounded region. Keeps the end index of the last value read in
     * {@link #next}, so a caller walks a record without allocating.
     */
    public static final class Cursor {
        private ByteBuffer buf;
        private int limit;
        /** Index just after the last value read. */
        public int next;

        public Cursor wrap(ByteBuffer buf, int index, int limit) {
            this.buf = buf;
            this.next = index;
            this.limit = limit;
            return this;
        }

        /**
         * Reads a varint. On malformed or truncated input returns 0 and fails the cursor ({@link #next} = -1);
         * once failed, every further read returns 0, so a caller may check {@link #failed()} once after a run of
         * reads.
         */
        public int varint() {
            if (next < 0) {
                return 0;
            }
            int raw = 0;
            int i = next;
            for (int shift = 0; shift < 35; shift += 7) {
                if (i >= limit) {
                    next = -1;
                    return 0;
                }
                byte b = buf.get(i++);
                raw |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    next = i;
                    return (raw >>> 1) ^ -(raw & 1);
                }
            }
            next = -1;
            return 0;
        }

        /** Reads a varlong; failure behaves as in {@link #varint()}. */
        public long varlong() {
            if (next < 0) {
                return 0;
            }
            long raw = 0;
            int i = next;
            for (int shift = 0; shift < 70; shift += 7) {
                if (i >= limit) {
                    next = -1;
                    return 0;
                }
                byte b = buf.get(i++);
                raw |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    next = i;
                    return (raw >>> 1) ^ -(raw & 1);
                }
            }
            next = -1;
            return 0;
        }

        public boolean failed() {
            return next < 0;
        }

        /** Skips n bytes; fails the cursor when they are not there. */
        public void skip(int n) {
            if (next < 0) {
                return;
            }
            if (n < 0 || n > limit - next) {
                next = -1;
            } else {
                next += n;
            }
        }
    }
}
