package io.idemlog.bench.record;

import io.idemlog.bench.Batches;
import io.idemlog.bench.BufferKind;
import io.idemlog.common.record.RecordReader;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Walks every record of one batch with {@link RecordReader}: the varint decoding of each record's header, with key
 * and value given as index and length (no copy). One operation = one batch.
 *
 * <p>Every field a consumer of the walk would use goes to the Blackhole, so the JIT cannot drop the decoding of
 * any of them. On JDK 17+ JMH uses compiler blackholes, which cost close to nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RecordBatchDecodeBenchmark {
    @Param({"1", "10", "100", "1000"})
    int recordsPerBatch;

    @Param({"10", "100", "1000"})
    int valueSize;

    private final RecordReader reader = new RecordReader();
    private ByteBuffer batch;

    @Setup
    public void setUp() {
        batch = Batches.batch(BufferKind.HEAP, Batches.values(recordsPerBatch, valueSize, Batches.SEED), 4_242L,
            (short) 3, 1_000_000);
        Batches.requireValid(batch, recordsPerBatch);
        // The walk must reach the end of the batch: a reader that stopped early would time less work.
        RecordReader check = new RecordReader().wrap(batch, 0);
        int walked = 0;
        while (check.next()) {
            walked++;
        }
        if (walked != recordsPerBatch) {
            throw new IllegalStateException("walked " + walked + " records of " + recordsPerBatch);
        }
    }

    @Benchmark
    public int readAll(Blackhole bh) {
        RecordReader r = reader.wrap(batch, 0);
        int n = 0;
        while (r.next()) {
            bh.consume(r.offset);
            bh.consume(r.timestamp);
            bh.consume(r.keyIndex);
            bh.consume(r.keyLength);
            bh.consume(r.valueIndex);
            bh.consume(r.valueLength);
            bh.consume(r.headerCount);
            n++;
        }
        return n;
    }
}
