package io.idemlog.bench.state;

import io.idemlog.server.state.KeyWindow;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Heap per de-duplication key, measured: used heap after forced collections, before and after filling a
 * {@link KeyWindow} with N keys, divided by N; printed beside the window's own count of its arrays' bytes.
 *
 * <p>{@code java -cp jmh/target/benchmarks.jar io.idemlog.bench.state.KeyWindowHeap [keys]}
 */
public final class KeyWindowHeap {
    private KeyWindowHeap() {
    }

    private static long usedAfterGc(MemoryMXBean memory) throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50); // let the collector finish its concurrent work; this is a measurement tool
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    public static void main(String[] args) throws InterruptedException {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        ByteBuffer key = ByteBuffer.allocateDirect(KeyWindowBenchmark.KEY_BYTES);
        SplittableRandom random = new SplittableRandom(3);
        long before = usedAfterGc(memory);
        KeyWindow window = new KeyWindow(Long.MAX_VALUE / 4, keys);
        for (int i = 0; i < keys; i++) {
            KeyWindowBenchmark.fill(key, 1, random);
            window.add(KeyWindow.hash(key, 0, KeyWindowBenchmark.KEY_BYTES), i, 1_700_000_000_000L);
        }
        long after = usedAfterGc(memory);
        System.out.printf("KeyWindow %,d keys: %.1f bytes of heap per key (its arrays: %.1f bytes per key)%n",
            window.size(), (after - before) / (double) window.size(),
            window.retainedBytes() / (double) window.size());
        if (window.size() != keys) {
            throw new IllegalStateException("window holds " + window.size());
        }
    }
}
