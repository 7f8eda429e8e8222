package io.idemlog.common.record;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SequencesAndVarintsTest {
    @Test
    void sequencesWrapFromMaxValueToZero() {
        assertEquals(0, Sequences.next(Integer.MAX_VALUE));
        assertEquals(6, Sequences.next(5));
        assertEquals(Integer.MAX_VALUE, Sequences.increment(Integer.MAX_VALUE - 1, 1));
        assertEquals(0, Sequences.increment(Integer.MAX_VALUE - 1, 2));
        assertEquals(3, Sequences.increment(Integer.MAX_VALUE - 1, 5));
        assertEquals(Integer.MAX_VALUE, Sequences.lastSequence(Integer.MAX_VALUE - 9, 9));
        assertEquals(0, Sequences.lastSequence(Integer.MAX_VALUE - 9, 10));
    }

    @Test
    void zigzagVarintsRoundTripAndTakeTheSizeTheyClaim() {
        Random random = new Random(7);
        ByteBuffer buf = ByteBuffer.allocate(16);
        Varints.Cursor c = new Varints.Cursor();
        int[] ints = {0, 1, -1, 63, -64, 64, Integer.MAX_VALUE, Integer.MIN_VALUE};
        for (int i = 0; i < 10_000; i++) {
            int v = i < ints.length ? ints[i] : random.nextInt();
            int end = Varints.putVarint(buf, 0, v);
            assertEquals(Varints.sizeOfVarint(v), end);
            assertEquals(v, c.wrap(buf, 0, end).varint());
            assertEquals(end, c.next);
            long l = i < ints.length ? (long) ints[i] << 20 : random.nextLong();
            end = Varints.putVarlong(buf, 0, l);
            assertEquals(Varints.sizeOfVarlong(l), end);
            assertEquals(l, c.wrap(buf, 0, end).varlong());
        }
        // The documented example: 1 -> 0x02, -1 -> 0x01 (zigzag).
        Varints.putVarint(buf, 0, 1);
        assertEquals(2, buf.get(0));
        Varints.putVarint(buf, 0, -1);
        assertEquals(1, buf.get(0));
    }

    @Test
    void aTruncatedVarintFailsTheCursor() {
        ByteBuffer buf = ByteBuffer.allocate(8);
        int end = Varints.putVarint(buf, 0, Integer.MAX_VALUE);
        Varints.Cursor c = new Varints.Cursor().wrap(buf, 0, end - 1);
        c.varint();
        assertTrue(c.failed());
    }
}
