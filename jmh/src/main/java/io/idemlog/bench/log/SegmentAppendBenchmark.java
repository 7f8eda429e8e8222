package io.idemlog.bench.log;

import io.idemlog.bench.Batches;
import io.idemlog.bench.BufferKind;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.AppendOutcome;
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
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Appending one batch to a partition log through the storage's public API (validation, CRC, offset assignment,
 * the positional write from a direct buffer, the sparse index), with the fsync policy as a parameter:
 * <ul>
 *   <li>{@code NONE}: the append only (page cache); the flusher thread still fsyncs in the background (it must:
 *       the store never leaves appends unflushed), at most every 10 ms;</li>
 *   <li>{@code EACH}: append, then wait until it is durable (the benchmark thread runs the fsync itself through
 *       {@code flushNow}, as the server's network thread does for acks=all): the cost of acks=all with one request
 *       in flight;</li>
 *   <li>{@code GROUP_8}, {@code GROUP_64}: the same once per 8 or 64 appends: what group commit buys.</li>
 * </ul>
 * One operation = one batch; divide the batch size by the score for bytes per second. With and without
 * {@code log.preallocate} (zero-fill ahead, so the fsync of an append does not also commit file-size metadata).
 * Segments roll at 256 MiB (rolls, with their seal fsync and snapshot, are included, one per ~16,000 16 KiB
 * appends) and retention keeps ~1 GiB, so the benchmark's disk use stays bounded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SegmentAppendBenchmark {
    /** When the benchmark thread fsyncs. */
    public enum Sync { NONE, EACH, GROUP_8, GROUP_64 }

    @Param({"1024", "16384"})
    int batchBytes;

    @Param({"NONE", "EACH", "GROUP_8", "GROUP_64"})
    Sync sync;

    @Param({"true", "false"})
    boolean preallocate;

    private Path dir;
    private LogManager store;
    private Partition partition;
    private ByteBuffer batch;
    private final AppendOutcome outcome = new AppendOutcome();
    private int every;
    private int count;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("idemlog-bench-append");
        LogConfig defaults = LogConfig.defaults();
        LogConfig config = new LogConfig(256L << 20, Long.MAX_VALUE / 4, -1L, 1L << 30, 1_000L,
            defaults.indexIntervalBytes(), defaults.maxBatchBytes(), defaults.producerIdExpirationMs(),
            defaults.producerIdExpirationCheckIntervalMs(), defaults.maxProducersPerPartition(), 0L, preallocate);
        store = LogManager.open(dir, config, SystemEpochClock.INSTANCE, (p, hw) -> { });
        store.createTopic("bench", 1);
        partition = store.partition("bench", 0);
        // Non-idempotent records (producer id -1): the producer-state check has its own benchmark.
        int records = Math.max(1, batchBytes / 110);
        batch = Batches.batch(BufferKind.DIRECT, Batches.values(records, 100, Batches.SEED), -1L, (short) -1, -1);
        every = switch (sync) {
            case NONE -> 0;
            case EACH -> 1;
            case GROUP_8 -> 8;
            case GROUP_64 -> 64;
        };
        AppendResult r = partition.append(batch, 0, batch.limit(), FlushDuty.CALLER);
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

    @Benchmark
    public long append() {
        // The produce path's form: the outcome is this thread's, reused (as ProduceHandler does).
        AppendOutcome r = outcome;
        partition.append(batch, 0, batch.limit(), every == 0 ? FlushDuty.FLUSHER : FlushDuty.CALLER, r);
        if (every > 0 && ++count == every) {
            count = 0;
            // Durable before going on, whoever runs the fsync: this thread, or (when the flusher's tick holds the
            // partition's commit) the flusher, whose commit this thread then waits for.
            partition.flushNow();
            long last = r.lastOffset();
            if (partition.highWatermark() <= last) {
                // Blocking, not spinning: on two cores a spinning thread would starve the flusher it waits for.
                Thread me = Thread.currentThread();
                partition.whenDurable(last, e -> LockSupport.unpark(me));
                while (partition.highWatermark() <= last) {
                    LockSupport.park(this);
                }
            }
        }
        return r.baseOffset();
    }
}
