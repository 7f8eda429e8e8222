package io.idemlog.bench.record;

import io.idemlog.bench.Batches;
import io.idemlog.bench.BufferKind;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;

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

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The client's encode path for one batch: {@link RecordBatchBuilder} init, one tryAppend per record, close (header
 * and CRC), and, separately, the drain-time {@link RecordBatch#stampProducerState} that rewrites the producer
 * fields and therefore recomputes the CRC over the whole batch a second time. One operation = one batch.
 *
 * <p>The batch is built into a heap buffer: the producer's buffer pool is not written yet, and a heap region is
 * what the builder is tested with today.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RecordBatchEncodeBenchmark {
    @Param({"1", "10", "100", "1000"})
    int recordsPerBatch;

    @Param({"10", "100", "1000"})
    int valueSize;

    private final RecordBatchBuilder builder = new RecordBatchBuilder();
    private final RecordBatch stamped = new RecordBatch();
    private byte[][] values;
    private ByteBuffer out;
    private int capacity;
    // In fields, not literals, so the JIT cannot fold them into the code it measures.
    private long baseTimestamp;
    private long producerId;
    private short producerEpoch;
    private int baseSequence;

    @Setup
    public void setUp() {
        values = Batches.values(recordsPerBatch, valueSize, Batches.SEED);
        capacity = Batches.capacityFor(recordsPerBatch, valueSize);
        out = BufferKind.HEAP.allocate(capacity);
        baseTimestamp = Batches.BASE_TIMESTAMP;
        producerId = 4_242L;
        producerEpoch = 3;
        baseSequence = 1_000_000;
        // What build() produces must be a batch the server accepts, or we would be timing a broken encoder.
        int size = build();
        Batches.requireValid(out.duplicate().limit(size), recordsPerBatch);
        stamped.wrap(out, 0);
    }

    @Benchmark
    public int build() {
        RecordBatchBuilder b = builder.init(out, 0, capacity);
        byte[][] v = values;
        long timestamp = baseTimestamp;
        for (int i = 0; i < v.length; i++) {
            if (!b.tryAppend(timestamp + i, null, v[i], null)) {
                throw new IllegalStateException("record " + i + " did not fit in " + capacity + " bytes");
            }
        }
        return b.close();
    }

    /** Stamps the batch that setUp built; the same values every time, so the batch stays valid. */
    @Benchmark
    public long stampProducerState() {
        stamped.stampProducerState(producerId, producerEpoch, baseSequence);
        return stamped.crc();
    }
}
