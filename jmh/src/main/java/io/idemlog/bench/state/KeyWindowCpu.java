package io.idemlog.bench.state;

import io.idemlog.server.state.KeyWindow;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The operations of {@link KeyWindowBenchmark}, timed by the thread's CPU time instead of the wall clock: on a
 * shared, loaded machine (2 cores, other builds running) JMH's wall-clock averages mostly measure how often the
 * thread was descheduled (±several µs per op). CPU time leaves that out (cache pollution by other processes stays
 * in). Each figure: 9 trials of {@code ops} operations after a warm-up, min and median ns per operation.
 *
 * <p>{@code java -cp jmh/target/benchmarks.jar io.idemlog.bench.state.KeyWindowCpu [ops [op,op...]]}
 */
public final class KeyWindowCpu {
    private static final long NOW_MS = 1_700_000_000_000L;
    private static final int TRIALS = 9;
    private static long sink;

    private KeyWindowCpu() {
    }

    private interface Op {
        long run(int i);
    }

    /** The operations: args[1] (comma-separated) or all; newKeysBatchAtBound needs the prefetch API. */
    private static String[] names(String[] args) {
        return args.length > 1 ? args[1].split(",")
            : new String[] {"missCheck", "hitCheck", "addAtBound", "newKeyAtBound", "newKeysBatchAtBound"};
    }

    public static void main(String[] args) {
        int ops = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int keys : new int[] {1_000, 1_000_000}) {
            for (String name : names(args)) {
                KeyWindowBenchmark b = new KeyWindowBenchmark();
                b.keys = keys;
                b.setUp();
                Op op = switch (name) {
                    case "missCheck" -> i -> b.missCheck();
                    case "hitCheck" -> i -> b.hitCheck();
                    case "addAtBound" -> i -> b.addAtBound();
                    case "newKeyAtBound" -> i -> b.newKeyAtBound();
                    default -> i -> b.newKeysBatchAtBound();
                };
                int perCall = name.equals("newKeysBatchAtBound") ? KeyWindowBenchmark.BATCH : 1;
                int calls = ops / perCall;
                for (int i = 0; i < 2 * calls; i++) {
                    sink += op.run(i);
                }
                double[] ns = new double[TRIALS];
                for (int t = 0; t < TRIALS; t++) {
                    long start = threads.getCurrentThreadCpuTime();
                    for (int i = 0; i < calls; i++) {
                        sink += op.run(i);
                    }
                    ns[t] = (threads.getCurrentThreadCpuTime() - start) / (double) (calls * perCall);
                }
                Arrays.sort(ns);
                System.out.printf("KeyWindowCpu %-14s keys=%,10d  min %7.1f ns/op  median %7.1f ns/op  (CPU time, %d"
                    + " trials of %,d ops)%n", name, keys, ns[0], ns[TRIALS / 2], TRIALS, ops);
            }
        }
        if (sink == 42) {
            System.out.println();
        }
    }
}
