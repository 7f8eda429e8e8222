package io.idemlog.bench.log;

import io.idemlog.bench.Batches;
import io.idemlog.bench.BufferKind;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.AppendResult;
import io.idemlog.server.log.FlushDuty;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.LogManager;
import io.idemlog.server.log.Partition;
import org.agrona.concurrent.SystemEpochClock;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.TimeUnit;

/**
 * What a segment roll costs the other producers of an event loop. One benchmark thread plays a Netty event loop
 * serving two producers in turn: producer A writes 16 KiB batches to partition {@code roll} (small
 * {@code log.segment.bytes}: a roll every {@code segmentBytes / 16 KiB} of its batches), producer B writes one small
 * batch to partition {@code steady} (which rolls hundreds of times less often). One operation = one turn of the loop
 * (A's append, then B's); its sampled time is how long B's request waits behind A's, so the high percentiles are
 * the stall a roll puts on the loop: the roll's fsyncs, index and snapshot writes when they run on the appending
 * thread, or only the in-memory snapshot and the file creation when they are handed to the storage thread.
 *
 * <p>acks=1-style appends (the flusher thread makes them durable in the background, as in the server): the point is
 * the time the appending thread is held, not the fsync that acks=all waits for. The data directory is on disk (not
 * tmpfs, where an fsync costs nothing): {@code -Didemlog.bench.dir=DIR}, default {@code jmh/target}.
 *
 * <p>Run: {@code java -jar jmh/target/benchmarks.jar RollStallBenchmark -prof gc} (docs/BENCHMARKS.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RollStallBenchmark {
    /** log.segment.bytes of both partitions: with 16 KiB batches, a roll of {@code roll} every 64 or 512 turns. */
    @Param({"1048576", "8388608"})
    int segmentBytes;

    private Path dir;
    private LogManager store;
    private Partition rolling;
    private Partition steady;
    private ByteBuffer big;
    private ByteBuffer small;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path parent = Paths.get(System.getProperty("idemlog.bench.dir", "jmh/target"));
        Files.createDirectories(parent);
        dir = Files.createTempDirectory(parent.toAbsolutePath(), "idemlog-bench-roll");
        LogConfig d = LogConfig.defaults();
        // Retention keeps ~64 MiB per partition so the disk use stays bounded however long the run.
        LogConfig config = new LogConfig(segmentBytes, Long.MAX_VALUE / 4, -1L, 64L << 20, 1_000L,
            d.indexIntervalBytes(), d.maxBatchBytes(), d.producerIdExpirationMs(),
            d.producerIdExpirationCheckIntervalMs(), d.maxProducersPerPartition(), 0L, d.preallocate());
        store = LogManager.open(dir, config, SystemEpochClock.INSTANCE, (p, hw) -> { });
        store.createTopic("roll", 1);
        store.createTopic("steady", 1);
        rolling = store.partition("roll", 0);
        steady = store.partition("steady", 0);
        big = Batches.batch(BufferKind.DIRECT, Batches.values(150, 100, Batches.SEED), -1L, (short) -1, -1);
        small = Batches.batch(BufferKind.DIRECT, Batches.values(1, 100, Batches.SEED), -1L, (short) -1, -1);
        check(rolling.append(big, 0, big.limit(), FlushDuty.FLUSHER));
        check(steady.append(small, 0, small.limit(), FlushDuty.FLUSHER));
    }

    private static void check(AppendResult r) {
        if (r.error() != ErrorCode.NONE) {
            throw new IllegalStateException("fixture batch rejected: " + r);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        store.close();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** One turn of the loop: A's append (which may roll), then B's. */
    @Benchmark
    public long turn() {
        rolling.append(big, 0, big.limit(), FlushDuty.FLUSHER);
        return steady.append(small, 0, small.limit(), FlushDuty.FLUSHER).baseOffset();
    }
}
