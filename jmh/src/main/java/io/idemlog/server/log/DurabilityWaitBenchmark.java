package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The acks=all durability wait of one batch on the server (issue 14 target 4): {@code waiters} registrations at
 * increasing offsets, then one group commit advancing the high watermark past them all (their callbacks run). One
 * operation = one registration + its share of the advance. The callback is one reused object (the produce path's own
 * callback is measured with the handler), so {@code -prof gc}'s gc.alloc.rate.norm is the tracker's own allocation
 * per batch. In the server's package: the tracker is package-private.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms256m", "-Xmx256m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class DurabilityWaitBenchmark {
    @Param({"8", "64"})
    int waiters;

    private final ReentrantLock owner = new ReentrantLock();
    private DurabilityTracker tracker;
    private long next;
    private long completed;
    private final DurabilityCallback callback = e -> {
        if (e == ErrorCode.NONE) {
            completed++;
        }
    };

    @Setup(Level.Trial)
    public void setUp() {
        tracker = new DurabilityTracker(0L, owner);
        owner.lock(); // this thread is the partition's commit-lock holder for the whole trial
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public long registerThenAdvance() {
        // 64 registrations per invocation in rounds of `waiters`, each round then committed at once
        for (int done = 0; done < 64; done += waiters) {
            for (int i = 0; i < waiters; i++) {
                tracker.whenDurable(next++, callback);
            }
            tracker.advanceTo(next);
        }
        return completed;
    }
}
