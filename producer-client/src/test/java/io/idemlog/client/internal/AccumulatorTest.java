package io.idemlog.client.internal;

import io.idemlog.client.ProducerClosedException;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordReader;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccumulatorTest {
    private static final long LINGER = 5;
    private final BufferPool pool = new BufferPool(64 * 1024, 1024);
    private final Accumulator acc = new Accumulator(1024, LINGER, 10_000, pool, true, 5);
    private final long deadline = System.nanoTime() + 1_000_000_000L;

    private Accumulator.AppendResult append(PartitionQueue q, long now, int valueSize) throws Exception {
        return acc.append(q, now, null, new byte[valueSize], null, null, now, deadline, false);
    }

    @Test
    void shouldFillOneOpenBatchPerPartitionThenStartANewOne() throws Exception {
        PartitionQueue q = acc.queue("t", 0);
        assertEquals(Accumulator.AppendResult.APPENDED_NEW_BATCH, append(q, 100, 100));
        int appended = 1;
        while (append(q, 100, 100) == Accumulator.AppendResult.APPENDED) {
            appended++;
        }
        assertTrue(appended > 5 && appended < 10, "about 1 KiB of 100-byte records: " + appended);
        assertEquals(100, acc.readyAtMs(q, false), "a sealed batch is ready at once");
        ProducerBatch first = acc.poll(q);
        assertEquals(appended, first.recordCount());
        RecordBatch b = new RecordBatch(first.records().buffer(), first.records().buffer().position());
        assertEquals(RecordBatch.Validation.VALID, b.validate(first.sizeInBytes(), 1 << 20));
        assertEquals(-1L, b.producerId(), "not stamped until the sender drains it");
        assertEquals(100 + LINGER, acc.readyAtMs(q, false), "the open one lingers");
        assertEquals(100, acc.readyAtMs(q, true), "flush/close: ready at once");
    }

    @Test
    void shouldGiveARecordLargerThanBatchSizeItsOwnBatch() throws Exception {
        PartitionQueue q = acc.queue("t", 0);
        append(q, 0, 10);
        assertEquals(Accumulator.AppendResult.APPENDED_NEW_BATCH, append(q, 0, 5000));
        ProducerBatch small = acc.poll(q);
        ProducerBatch big = acc.poll(q);
        assertEquals(1, small.recordCount());
        assertEquals(1, big.recordCount());
        assertTrue(big.sizeInBytes() > 5000);
        RecordReader r = new RecordReader().wrap(big.records().buffer(), big.records().buffer().position());
        assertTrue(r.next());
        assertEquals(5000, r.valueLength);
    }

    @Test
    void shouldKeepRecordsInAppendOrderInTheBatchBytes() throws Exception {
        PartitionQueue q = acc.queue("t", 1);
        for (int i = 0; i < 5; i++) {
            acc.append(q, 7, new byte[] {(byte) i}, new byte[] {(byte) (10 + i)}, null, null, 7, deadline, false);
        }
        ProducerBatch b = acc.poll(q);
        RecordReader r = new RecordReader().wrap(b.records().buffer(), b.records().buffer().position());
        for (int i = 0; i < 5; i++) {
            assertTrue(r.next());
            assertArrayEquals(new byte[] {(byte) i}, r.key());
            assertArrayEquals(new byte[] {(byte) (10 + i)}, r.value());
        }
    }

    @Test
    void shouldAskBeforeStartingANewBatchForTheStickyPartitioner() throws Exception {
        PartitionQueue q = acc.queue("t", 0);
        assertEquals(Accumulator.AppendResult.NEEDS_NEW_BATCH,
            acc.append(q, 0, null, new byte[10], null, null, 0, deadline, true));
        append(q, 0, 10);
        assertEquals(Accumulator.AppendResult.APPENDED,
            acc.append(q, 0, null, new byte[10], null, null, 0, deadline, true));
    }

    @Test
    void shouldExpireNeverSentBatchesAtTheirDeliveryDeadline() throws Exception {
        PartitionQueue q = acc.queue("t", 0);
        append(q, 0, 10);
        List<ProducerBatch> expired = new ArrayList<>();
        acc.expire(q, 9_999, expired::add);
        assertTrue(expired.isEmpty());
        acc.expire(q, 10_000, expired::add);
        assertEquals(1, expired.size());
        acc.deallocate(expired.get(0));
        assertEquals(0, pool.usedMemory());
        assertTrue(expired.get(0).isDone());
    }

    @Test
    void shouldCountEveryBatchUntilDeallocatedAndRejectAppendsAfterClose() throws Exception {
        PartitionQueue q = acc.queue("t", 0);
        append(q, 0, 10);
        assertEquals(1, acc.incompleteCount());
        ProducerBatch b = acc.poll(q);
        acc.deallocate(b);
        acc.deallocate(b);
        assertEquals(0, acc.incompleteCount());
        assertEquals(0, pool.usedMemory(), "a second deallocate does not release twice");
        assertNull(acc.poll(q));
        acc.close();
        assertThrows(ProducerClosedException.class, () -> append(q, 0, 10));
    }

    @Test
    void shouldSwitchTheStickyPartitionOnlyFromTheExpectedOne() {
        assertEquals(-1, acc.stickyPartition("t"));
        assertEquals(3, acc.switchSticky("t", -1, 3));
        assertEquals(3, acc.switchSticky("t", 1, 5), "another thread moved it already");
        assertEquals(5, acc.switchSticky("t", 3, 5));
    }

    @Test
    void shouldShareOneQueuePerPartition() {
        assertSame(acc.queue("t", 2), acc.queue("t", 2));
        assertEquals(1, acc.partitions().length);
        ByteBuffer unused = ByteBuffer.allocate(0);
        assertEquals(0, unused.capacity());
    }
}
