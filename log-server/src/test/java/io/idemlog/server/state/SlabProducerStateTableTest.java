package io.idemlog.server.state;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlabProducerStateTableTest extends ProducerStateTableContract {
    @Override
    ProducerStateTable newTable(int maxProducers, long expirationMs) {
        return new SlabProducerStateTable(maxProducers, expirationMs);
    }

    @Override
    ProducerStateTable newTable(int maxProducers, long expirationMs, EvictionPolicy policy) {
        return new SlabProducerStateTable(maxProducers, expirationMs, policy);
    }

    @Test
    void holdsAMillionProducersInLessThan200BytesEach() {
        int producers = 1_000_000;
        SlabProducerStateTable table = new SlabProducerStateTable(producers, EXPIRATION_MS);
        for (long pid = 0; pid < producers; pid++) {
            for (int b = 0; b < ProducerStateTable.RETAINED_BATCHES; b++) {
                table.update(pid, (short) 0, b, 0, pid * 5 + b, T0);
            }
        }
        assertEquals(producers, table.size());
        double perEntry = table.heapBytesPerEntry();
        System.out.printf("slab producer state: %d producers, %.1f bytes per entry (estimated)%n", producers,
            perEntry);
        assertTrue(perEntry < 200.0, "bytes per entry: " + perEntry);
        assertEquals(SequenceOutcome.DUPLICATE, table.check(123_456L, (short) 0, 3, 0));
        assertEquals(123_456L * 5 + 3, table.duplicateFirstOffset());
    }

    @Test
    void anEmptyTableCostsNoPage() {
        SlabProducerStateTable table = new SlabProducerStateTable(100_000, EXPIRATION_MS);
        assertTrue(table.heapBytes() < 8192, "empty table: " + table.heapBytes());
        table.update(1L, (short) 0, 0, 0, 0L, T0);
        assertTrue(table.heapBytes() < 40_000, "one producer: " + table.heapBytes());
    }
}
