package io.idemlog.common.protocol;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Strings read as the previous value when their bytes repeat ({@link WireReader#readNullableString(boolean, String)})
 * and written without a byte array when ASCII: same values, same bytes on the wire.
 */
class WireStringReuseTest {
    private static ByteBuffer written(String s, boolean compact) {
        WireWriter w = new WireWriter(16);
        w.writeNullableString(s, compact);
        return w.toFlatBuffer();
    }

    /** The encoding as it was before the ASCII path: length, then getBytes(UTF-8). */
    private static byte[] reference(String s, boolean compact) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(b.length + 5);
        if (compact) {
            int v = b.length + 1;
            while ((v & 0xFFFFFF80) != 0) {
                out.put((byte) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.put((byte) v);
        } else {
            out.putShort((short) b.length);
        }
        out.put(b);
        byte[] r = new byte[out.position()];
        out.flip().get(r);
        return r;
    }

    @Test
    void stringsAreWrittenAsTheirUtf8BytesAsciiOrNot() {
        String[] values = {"", "a", "orders-events", "évènements", "日本", "mixed-ascii-é", "x".repeat(200),
            "\u007f", "\u0080", "\uD83D\uDE00"};
        for (boolean compact : new boolean[] {false, true}) {
            for (String s : values) {
                ByteBuffer b = written(s, compact);
                byte[] actual = new byte[b.remaining()];
                b.get(actual);
                assertArrayEquals(reference(s, compact), actual, s);
                assertEquals(s, new WireReader(ByteBuffer.wrap(actual)).readNullableString(compact));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new WireWriter().writeString("y".repeat(40_000), false));
    }

    @Test
    void aRepeatedAsciiStringIsThePreviousOneAndAnythingElseIsDecoded() {
        for (boolean compact : new boolean[] {false, true}) {
            String previous = new String("bench-producer".toCharArray());
            assertSame(previous, new WireReader(written("bench-producer", compact))
                .readNullableString(compact, previous));
            assertSame(previous, new WireReader(written("bench-producer", compact)).readString(compact, previous));
            String other = new WireReader(written("bench-producer2", compact)).readNullableString(compact, previous);
            assertEquals("bench-producer2", other);
            String differs = new WireReader(written("bench-produced", compact)).readNullableString(compact, previous);
            assertEquals("bench-produced", differs);
            assertNull(new WireReader(written(null, compact)).readNullableString(compact, previous));
            assertEquals("", new WireReader(written("", compact)).readNullableString(compact, previous));
            assertEquals("x", new WireReader(written("x", compact)).readNullableString(compact, null));
            // Not ASCII: equal, but always decoded (never compared).
            String accented = "évènements";
            String read = new WireReader(written(accented, compact)).readNullableString(compact, accented);
            assertEquals(accented, read);
            assertNotSame(accented, read);
            // A previous string with a char beyond ASCII whose low byte matches is not mistaken for the bytes.
            String wide = "a\u0162";  // 0x0162: low byte 0x62 = 'b'
            assertEquals("ab", new WireReader(written("ab", compact)).readNullableString(compact, wide));
            assertThrows(ProtocolException.class,
                () -> new WireReader(written(null, compact)).readString(compact, "orders"));
        }
    }

    @Test
    void directBuffersToo() {
        ByteBuffer heap = written("orders-events", true);
        ByteBuffer direct = ByteBuffer.allocateDirect(heap.remaining()).put(heap.duplicate()).flip();
        String previous = "orders-events";
        assertSame(previous, new WireReader(direct).readString(true, previous));
        assertEquals("orders-eventz", new WireReader(ByteBuffer.allocateDirect(16)
            .put(written("orders-eventz", true)).flip()).readString(true, previous));
    }

    @Test
    void aDetachedCopyHasTheBytesAndHolesOfTheWriter() {
        WireWriter w = new WireWriter(16);
        w.writeInt32(7).writeString("topic", true);
        MemoryRecords records = new MemoryRecords(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        w.writeRecords(records, true);
        w.writeInt16(9);
        WireWriter copy = w.detachedCopy();
        byte[] flat = new byte[w.totalSize()];
        w.toFlatBuffer().get(flat);
        w.reset().writeInt64(-1L); // the original reused: the copy is unaffected
        byte[] copied = new byte[copy.totalSize()];
        copy.toFlatBuffer().get(copied);
        assertArrayEquals(flat, copied);
        assertEquals(1, copy.recordsAt().size());
        assertSame(records, copy.recordsAt().get(0).records());
        assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}, w.copyOfBytes());
    }
}
