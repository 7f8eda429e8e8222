package io.idemlog.bench.state;

import io.idemlog.server.state.ProducerStateTable;
import io.idemlog.server.state.ReferenceProducerStateTable;
import io.idemlog.server.state.SlabProducerStateTable;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.SplittableRandom;

/**
 * Heap per producer entry, measured: used heap after forced collections, before and after filling a table with
 * N producers (each with its full window of 5 batches), divided by N. Prints the slab table's own estimate beside
 * it. Target: < 200 bytes per entry.
 *
 * <p>{@code java -cp jmh/target/benchmarks.jar io.idemlog.bench.state.ProducerStateHeap [producers]}
 */
public final class ProducerStateHeap {
    private ProducerStateHeap() {
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

    static double measure(String name, int producers) throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        SplittableRandom random = new SplittableRandom(7);
        long[] ids = new long[producers];
        for (int i = 0; i < producers; i++) {
            ids[i] = random.nextLong(1L << 48);
        }
        long before = usedAfterGc(memory);
        ProducerStateTable table = name.equals("slab") ? new SlabProducerStateTable(producers, Long.MAX_VALUE / 4)
            : new ReferenceProducerStateTable(producers, Long.MAX_VALUE / 4);
        long offset = 0;
        for (int i = 0; i < producers; i++) {
            for (int b = 0; b < ProducerStateTable.RETAINED_BATCHES; b++) {
                table.update(ids[i], (short) 0, b * 10, 9, offset, 1_700_000_000_000L);
                offset += 10;
            }
        }
        long after = usedAfterGc(memory);
        double perEntry = (after - before) / (double) table.size();
        String estimate = table instanceof SlabProducerStateTable slab
            ? String.format(" (the table's own estimate: %.1f)", slab.heapBytesPerEntry()) : "";
        System.out.printf("%-9s %,d producers: %.1f bytes of heap per producer entry%s%n", name, table.size(),
            perEntry, estimate);
        if (table.size() != producers) {
            throw new IllegalStateException("table holds " + table.size());
        }
        return perEntry;
    }

    public static void main(String[] args) throws InterruptedException {
        int producers = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        measure("slab", producers);
        measure("reference", producers);
    }
}
