package io.idemlog.bench.record;

import io.idemlog.bench.Batches;
import io.idemlog.bench.BufferKind;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.Varints;

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
 * The server's per-batch checks on the produce path, the very calls it makes: {@link RecordBatch#validate} (length,
 * magic, CRC-32C over the whole batch, record count: the one header check, which the server's ProduceBatchCheck,
 * segment recovery and reads all run) and {@link RecordBatch#validateRecords} (walks every record, after the
 * producer-state check). One operation = one batch. Heap and direct buffers both: the server validates batches in Netty's direct frame buffers, and the
 * CRC takes a different path for each.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RecordBatchValidateBenchmark {
    /** The server's default message.max.bytes: the limit validate() checks a batch against. */
    private static final int MESSAGE_MAX_BYTES = 1_048_588;

    @Param({"1", "10", "100", "1000"})
    int recordsPerBatch;

    @Param({"10", "100", "1000"})
    int valueSize;

    @Param({"HEAP", "DIRECT"})
    BufferKind buffer;

    private final RecordBatch batch = new RecordBatch();
    private final Varints.Cursor cursor = new Varints.Cursor();
    private int available;
    private int maxSize;

    @Setup
    public void setUp() {
        ByteBuffer bytes = Batches.batch(buffer, Batches.values(recordsPerBatch, valueSize, Batches.SEED), 4_242L,
            (short) 3, 1_000_000);
        batch.wrap(bytes, 0);
        available = bytes.limit();
        maxSize = MESSAGE_MAX_BYTES;
        // Both checks must pass all the way: an early rejection would time a shortcut, not the check.
        if (validate() != RecordBatch.Validation.VALID || !validateRecords()) {
            throw new IllegalStateException("fixture batch rejected: " + batch);
        }
    }

    @Benchmark
    public RecordBatch.Validation validate() {
        return batch.validate(available, maxSize);
    }

    @Benchmark
    public boolean validateRecords() {
        return batch.validateRecords(cursor);
    }
}
