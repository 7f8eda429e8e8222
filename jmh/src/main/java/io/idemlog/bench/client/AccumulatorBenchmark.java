package io.idemlog.bench.client;

import io.idemlog.client.internal.Accumulator;
import io.idemlog.client.internal.BufferPool;
import io.idemlog.client.internal.PartitionQueue;
import io.idemlog.client.internal.ProducerBatch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The producer client's hot path without the network: appending one record to the partition's open batch, built
 * in place in a pooled buffer. When a batch fills, the benchmark plays the sender: it takes the sealed batch off
 * the queue and returns its memory (as after an acknowledgement), so the pool never runs dry and batch turnover
 * (new batch, seal with CRC, recycle) is part of the cost, as it is in a real producer. No completion per record
 * (the callback form with a null callback): the target is no allocation per record; run with {@code -prof gc} and
 * read {@code gc.alloc.rate.norm} (bytes per record).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AccumulatorBenchmark {
    @Param({"16384", "65536"})
    int batchSize;

    @Param({"false", "true"})
    boolean keyed;

    @Param({"100"})
    int valueSize;

    private Accumulator accumulator;
    private PartitionQueue queue;
    private byte[] key;
    private byte[] value;
    private long timestamp = 1_700_000_000_000L;
    /** False until the first batch exists: only then does a new batch mean an older, sealed one to take. */
    private boolean open;

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        BufferPool pool = new BufferPool(32L << 20, batchSize);
        accumulator = new Accumulator(batchSize, 5L, 120_000L, pool, true, 5);
        queue = accumulator.queue("bench", 0);
        value = new byte[valueSize];
        new SplittableRandom(1).nextBytes(value);
        key = keyed ? "a-key-of-20-bytes-xx".getBytes(java.nio.charset.StandardCharsets.US_ASCII) : null;
        int newBatches = 0;
        for (int i = 0; i < 10_000; i++) {
            if (append() == Accumulator.AppendResult.APPENDED_NEW_BATCH) {
                newBatches++;
            }
        }
        // 10,000 records of ~110 bytes fill about 10,000 * 110 / batchSize batches: more means a broken fixture.
        if (newBatches > 2 + 10_000L * 130 / batchSize || accumulator.pool().usedMemory() > 2L * batchSize) {
            throw new IllegalStateException("fixture broken: " + newBatches + " batches, "
                + accumulator.pool().usedMemory() + " bytes in use");
        }
    }

    @Benchmark
    public Accumulator.AppendResult append() throws InterruptedException {
        Accumulator.AppendResult r = accumulator.append(queue, timestamp++, key, value, null, null, 0L,
            Long.MAX_VALUE, false);
        if (r == Accumulator.AppendResult.APPENDED_NEW_BATCH) {
            if (open) {
                // The previous batch is sealed and queued ahead of the new one: "send" and acknowledge it.
                ProducerBatch sealed = accumulator.poll(queue);
                accumulator.deallocate(sealed);
            }
            open = true;
        }
        return r;
    }
}
