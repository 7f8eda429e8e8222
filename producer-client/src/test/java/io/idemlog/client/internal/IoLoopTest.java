package io.idemlog.client.internal;

import io.idemlog.client.FatalProducerException;
import io.idemlog.client.ProducerConfig;
import io.idemlog.client.internal.net.IoLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The I/O thread's boundary: a bug (RuntimeException) or a JVM error (Error) in a sender run fails the producer
 * loudly and is counted; neither is swallowed into a producer that silently stops.
 */
class IoLoopTest {
    private IoLoop io;

    @AfterEach
    void stop() {
        if (io != null) {
            io.shutdown(1000);
        }
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private Sender sender(MockTransport transport, Metrics metrics) {
        ProducerConfig c = ProducerConfig.builder().bootstrapServers("127.0.0.1:9092").build();
        BufferPool pool = new BufferPool(c.bufferMemory(), c.batchSize());
        Accumulator accumulator = new Accumulator(c.batchSize(), c.lingerMs(), c.deliveryTimeoutMs(), pool,
            c.idempotence(), c.maxInFlightRequestsPerConnection());
        Metadata metadata = new Metadata(Metadata.bootstrapNodes(c.bootstrapServers()), c.metadataMaxAgeMs(),
            c.retryBackoffMs());
        return new Sender(c, accumulator, metadata, transport, metrics);
    }

    private void runFailing(Throwable failure) {
        MockTransport transport = new MockTransport();
        transport.pollFailure = failure;
        Metrics metrics = new Metrics();
        Sender sender = sender(transport, metrics);
        AtomicLong counted = new AtomicLong();
        io = new IoLoop("test-io", System::currentTimeMillis, () -> {
            counted.incrementAndGet();
            metrics.internalError();
        });
        io.start(sender);
        await(() -> sender.fatalError() != null, "the producer to fail");
        assertInstanceOf(FatalProducerException.class, sender.fatalError());
        await(() -> counted.get() >= 1 && metrics.internalErrors() >= 1, "the error to be counted");
    }

    @Test
    void shouldFailTheProducerAndCountABugInTheSender() {
        runFailing(new IllegalStateException("a bug"));
    }

    @Test
    void shouldFailTheProducerAndCountAJvmErrorWithoutSwallowingIt() {
        runFailing(new StackOverflowError("deep"));
    }
}
