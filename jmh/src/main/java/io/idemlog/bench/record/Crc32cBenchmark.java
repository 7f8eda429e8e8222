package io.idemlog.bench.record;

import io.idemlog.bench.BufferKind;
import io.idemlog.common.record.Crc32c;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@link Crc32c#compute(ByteBuffer, int, int)}, the CRC every batch pays twice on the client (close, then stamp)
 * and once on the server (validate), over 1 KiB, 16 KiB (the producer's default batch.size) and 1 MiB (about
 * message.max.bytes), in heap and direct buffers.
 *
 * <p>Scores are bytes per microsecond, that is MB/s (10^6 bytes/s): one JMH "operation" is one byte
 * ({@code @OperationsPerInvocation} = the length), so the sizes compare directly. One method per size because
 * {@code @OperationsPerInvocation} cannot follow a {@code @Param}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class Crc32cBenchmark {
    private static final int KIB = 1024;
    private static final int SIZE_1K = KIB;
    private static final int SIZE_16K = 16 * KIB;
    private static final int SIZE_1M = KIB * KIB;

    @Param({"HEAP", "DIRECT"})
    BufferKind buffer;

    private ByteBuffer data1k;
    private ByteBuffer data16k;
    private ByteBuffer data1m;
    // Lengths in fields, not constants: the JIT must not specialise the CRC loop for a known trip count.
    private int length1k;
    private int length16k;
    private int length1m;

    @Setup
    public void setUp() {
        data1k = random(SIZE_1K);
        data16k = random(SIZE_16K);
        data1m = random(SIZE_1M);
        length1k = SIZE_1K;
        length16k = SIZE_16K;
        length1m = SIZE_1M;
    }

    private ByteBuffer random(int size) {
        ByteBuffer b = buffer.allocate(size);
        SplittableRandom random = new SplittableRandom(size);
        while (b.hasRemaining()) {
            b.put((byte) random.nextInt(256));
        }
        return b.clear();
    }

    @Benchmark
    @OperationsPerInvocation(SIZE_1K)
    public long crc1KiB() {
        return Crc32c.compute(data1k, 0, length1k);
    }

    @Benchmark
    @OperationsPerInvocation(SIZE_16K)
    public long crc16KiB() {
        return Crc32c.compute(data16k, 0, length16k);
    }

    @Benchmark
    @OperationsPerInvocation(SIZE_1M)
    public long crc1MiB() {
        return Crc32c.compute(data1m, 0, length1m);
    }
}
