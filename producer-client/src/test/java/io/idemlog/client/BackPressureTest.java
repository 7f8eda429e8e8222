package io.idemlog.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** send() against servers that stop answering: it blocks up to max.block.ms, then fails; memory stays bounded. */
class BackPressureTest {
    private static final long MAX_BLOCK_MS = 300;

    @Test
    void shouldBlockThenFailWhenBufferMemoryIsUsedUpAndStayWithinIt() throws Exception {
        long bufferMemory = 64 * 1024;
        try (StallingServer server = new StallingServer(StallingServer.Mode.STALL_PRODUCE, "t", 2);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).batchSize(16 * 1024).bufferMemory(bufferMemory)
                 .maxBlockMs(MAX_BLOCK_MS).lingerMs(0).build())) {
            byte[] value = new byte[1000];
            ProducerException failure = null;
            long blockedNanos = 0;
            long maxUsed = 0;
            int sent = 0;
            for (int i = 0; i < 10_000 && failure == null; i++) {
                long t0 = System.nanoTime();
                CompletableFuture<RecordMetadata> f = producer.send("t", null, value);
                long took = System.nanoTime() - t0;
                maxUsed = Math.max(maxUsed, producer.metrics().bufferPoolUsedBytes());
                if (f.isCompletedExceptionally()) {
                    ExecutionException e = assertThrows(ExecutionException.class, f::get);
                    failure = assertInstanceOf(ProducerException.class, e.getCause());
                    blockedNanos = took;
                } else {
                    sent++;
                }
            }
            assertInstanceOf(ProducerTimeoutException.class, failure);
            assertTrue(failure.getMessage().contains("buffer.memory"), failure.getMessage());
            assertFalse(failure.mayHaveBeenWritten());
            assertTrue(blockedNanos >= TimeUnit.MILLISECONDS.toNanos(MAX_BLOCK_MS), "blocked " + blockedNanos);
            assertTrue(sent >= 40 && sent < 70, "about 64 KiB of 1 KB records accepted: " + sent);
            assertTrue(maxUsed <= bufferMemory, "pool used " + maxUsed);
            assertTrue(server.produceRequests.get() >= 1, "the producer did send (the server stalls)");
            assertEquals(bufferMemory, producer.metrics().bufferPoolUsedBytes() + producer.metrics()
                .bufferPoolAvailableBytes());
            producer.close(Duration.ZERO);
        }
    }

    @Test
    void shouldFailAfterMaxBlockWhenMetadataNeverComes() throws Exception {
        try (StallingServer server = new StallingServer(StallingServer.Mode.SILENT, "t", 1);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).maxBlockMs(MAX_BLOCK_MS).build())) {
            long t0 = System.nanoTime();
            CompletableFuture<RecordMetadata> f = producer.send("t", null, new byte[10]);
            long took = System.nanoTime() - t0;
            ExecutionException e = assertThrows(ExecutionException.class, f::get);
            ProducerTimeoutException timeout = assertInstanceOf(ProducerTimeoutException.class, e.getCause());
            assertTrue(timeout.getMessage().contains("not present in metadata after 300 ms"), timeout.getMessage());
            assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(MAX_BLOCK_MS));
            producer.close(Duration.ZERO);
        }
    }

    @Test
    void shouldFailPendingRecordsWhenCloseRunsOutOfTime() throws Exception {
        try (StallingServer server = new StallingServer(StallingServer.Mode.STALL_PRODUCE, "t", 1);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).lingerMs(0).build())) {
            CompletableFuture<RecordMetadata> f = producer.send("t", null, new byte[10]);
            producer.close(Duration.ofMillis(200));
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
            ProducerClosedException closed = assertInstanceOf(ProducerClosedException.class, e.getCause());
            assertTrue(closed.mayHaveBeenWritten(), "it was sent, unanswered");
            CompletableFuture<RecordMetadata> late = producer.send("t", null, new byte[10]);
            assertInstanceOf(ProducerClosedException.class,
                assertThrows(ExecutionException.class, late::get).getCause());
            assertEquals(0, producer.metrics().bufferPoolUsedBytes());
        }
    }

    @Test
    void shouldRejectARecordLargerThanMaxRequestSizeAtOnce() throws Exception {
        try (StallingServer server = new StallingServer(StallingServer.Mode.SILENT, "t", 1);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).maxRequestSize(1024).build())) {
            long t0 = System.nanoTime();
            CompletableFuture<RecordMetadata> f = producer.send("t", null, new byte[2000]);
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(MAX_BLOCK_MS), "fails fast");
            RecordTooLargeException e = assertInstanceOf(RecordTooLargeException.class,
                assertThrows(ExecutionException.class, f::get).getCause());
            assertTrue(e.getMessage().contains("max.request.size"), e.getMessage());
            producer.close(Duration.ZERO);
        }
    }
}
