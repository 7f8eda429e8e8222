package io.idemlog.client.internal;

import io.idemlog.common.record.Sequences;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the sequence bookkeeping that need no batch: wrap-around and the producer-id life cycle. */
class PartitionProducerStateTest {
    @Test
    void shouldWrapLogicalSequencesExactlyLikeTheServer() {
        long[] starts = {0, 5, Integer.MAX_VALUE - 3L, Integer.MAX_VALUE, Integer.MAX_VALUE + 1L,
            3L * Integer.MAX_VALUE + 7};
        for (long base : starts) {
            for (int count = 1; count <= 10; count++) {
                int wireBase = PartitionProducerState.wire(base);
                assertTrue(wireBase >= 0);
                assertEquals(Sequences.lastSequence(wireBase, count - 1), PartitionProducerState.wire(base + count - 1),
                    "base " + base + " count " + count);
                assertEquals(Sequences.next(PartitionProducerState.wire(base + count - 1)),
                    PartitionProducerState.wire(base + count));
            }
        }
        assertEquals(0, PartitionProducerState.wire(Integer.MAX_VALUE + 1L), "Integer.MAX_VALUE + 1 wraps to 0");
    }

    @Test
    void shouldNeedAProducerIdBeforeStampingAndAdoptOneOnlyWhenIdle() {
        PartitionProducerState s = new PartitionProducerState(true, 5);
        assertTrue(s.needsProducerId());
        assertFalse(s.canSendNew());
        assertTrue(s.adoptProducerId(7, (short) 3));
        assertEquals(7, s.producerId());
        assertEquals(3, s.epoch());
        assertEquals(0, s.nextSequence());
        assertTrue(s.canSendNew());
        assertFalse(s.adoptProducerId(8, (short) 0), "a partition with an id keeps it");
        assertFalse(s.maybeBumpEpoch(), "no gap, no bump");
    }

    @Test
    void shouldNotNeedAProducerIdWithoutIdempotence() {
        PartitionProducerState s = new PartitionProducerState(false, 5);
        assertFalse(s.needsProducerId());
        assertTrue(s.canSendNew());
        assertFalse(s.adoptProducerId(1, (short) 0));
    }
}
