package io.idemlog.client.internal;

import io.idemlog.client.ProducerTimeoutException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BufferPoolTest {
    private static long soon(long ms) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    }

    @Test
    void shouldRecyclePoolableDirectBuffers() throws Exception {
        BufferPool pool = new BufferPool(4096, 1024);
        ByteBuffer b = pool.allocate(1024, soon(0));
        assertTrue(b.isDirect());
        assertEquals(1024, pool.usedMemory());
        pool.release(b);
        assertEquals(0, pool.usedMemory());
        assertSame(b, pool.allocate(1024, soon(0)), "the same buffer comes back: no allocation");
    }

    @Test
    void shouldGiveOversizedBatchesAHeapBufferCountedAgainstTheBudget() throws Exception {
        BufferPool pool = new BufferPool(4096, 1024);
        ByteBuffer big = pool.allocate(3000, soon(0));
        assertFalse(big.isDirect());
        assertEquals(3000, pool.usedMemory());
        assertThrows(ProducerTimeoutException.class, () -> pool.allocate(1200, soon(10)));
        pool.release(big);
        assertEquals(4096, pool.availableMemory());
    }

    @Test
    void shouldBlockThenFailWithAMessageNamingBufferMemory() throws Exception {
        BufferPool pool = new BufferPool(2048, 1024);
        pool.allocate(1024, soon(0));
        pool.allocate(1024, soon(0));
        long t0 = System.nanoTime();
        ProducerTimeoutException e = assertThrows(ProducerTimeoutException.class,
            () -> pool.allocate(1024, soon(100)));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(100), "blocked until the deadline");
        assertTrue(e.getMessage().contains("buffer.memory"), e.getMessage());
        assertFalse(e.mayHaveBeenWritten());
        assertEquals(0, pool.waiters());
        assertEquals(2048, pool.usedMemory());
    }

    @Test
    void shouldWakeAWaiterWhenMemoryIsReleased() throws Exception {
        BufferPool pool = new BufferPool(1024, 1024);
        ByteBuffer b = pool.allocate(1024, soon(0));
        CompletableFuture<ByteBuffer> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                return pool.allocate(1024, soon(10_000));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = soon(5000);
        while (pool.waiters() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, pool.waiters());
        assertTrue(pool.hasWaiters(), "the sender drains everything while someone waits");
        pool.release(b);
        assertSame(b, waiter.get(5, TimeUnit.SECONDS));
        assertEquals(1024, pool.usedMemory());
    }

    @Test
    void shouldNeverHandOutMoreThanTheBudget() throws Exception {
        BufferPool pool = new BufferPool(10 * 1024, 1024);
        java.util.List<ByteBuffer> held = new java.util.ArrayList<>();
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < 2000; i++) {
            if (!held.isEmpty() && random.nextBoolean()) {
                pool.release(held.remove(random.nextInt(held.size())));
            } else {
                int size = random.nextInt(4) == 0 ? 1024 + random.nextInt(3000) : 1024;
                try {
                    held.add(pool.allocate(size, soon(0)));
                } catch (ProducerTimeoutException e) {
                    // full: fine
                }
            }
            long used = held.stream().mapToLong(ByteBuffer::capacity).sum();
            assertEquals(used, pool.usedMemory());
            assertTrue(used <= 10 * 1024);
            assertEquals(10 * 1024, pool.usedMemory() + pool.freeableForTest());
        }
    }
}
