package io.idemlog.bench.state;

import io.idemlog.server.state.ProducerStateTable;
import io.idemlog.server.state.ReferenceProducerStateTable;
import io.idemlog.server.state.SequenceOutcome;
import io.idemlog.server.state.SlabProducerStateTable;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The producer-state check of the produce path (IDEMPOTENCE.md "Validating a produced batch"), per batch, in a
 * partition holding 1, 1,000 or 1,000,000 producers, each with its full window of 5 cached batches:
 * <ul>
 *   <li>{@code inOrderCheck}: the check of the next batch of a random producer (the common case), alone;</li>
 *   <li>{@code inOrderAppend}: check + update of the next batch (what an append costs the state, LRU relink
 *       included);</li>
 *   <li>{@code duplicate}: check of a batch still in the window (a retry): answers the original offsets;</li>
 *   <li>{@code outOfOrder}: check of a batch that leaves a gap (rejected, nothing changes).</li>
 * </ul>
 * Producers are visited in a precomputed random permutation (ids stored by value and read sequentially), so neither
 * a random generator nor the benchmark's own bookkeeping is measured, and at 1,000,000 producers almost every
 * operation touches table memory no recent operation left in the CPU cache, as in a real producer storm. Target: < 100 ns per check with
 * 1,000,000 producers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ProducerStateBenchmark {
    /** Records per batch: sequences advance by this much per batch. */
    private static final int RECORDS = 10;
    private static final short EPOCH = 0;
    private static final long NOW_MS = 1_700_000_000_000L;

    /** The production table, or the simple reference one for contrast. */
    public enum Table { SLAB, REFERENCE }

    @Param({"1", "1000", "1000000"})
    int producers;

    @Param({"SLAB", "REFERENCE"})
    Table table;

    private ProducerStateTable state;
    /** Producer ids in a random permutation: op i is for permuted[i % producers], read sequentially. */
    private long[] permuted;
    private int cursor;
    private int pass;
    private long nextOffset;

    @Setup(Level.Trial)
    public void setUp() {
        state = table == Table.SLAB ? new SlabProducerStateTable(producers * 2, Long.MAX_VALUE / 4)
            : new ReferenceProducerStateTable(producers * 2, Long.MAX_VALUE / 4);
        SplittableRandom random = new SplittableRandom(0x5EED);
        long[] ids = new long[producers];
        for (int p = 0; p < producers; p++) {
            // Scattered 48-bit ids, like ids handed out over a long time by many servers.
            ids[p] = random.nextLong(1L << 48);
            for (int b = 0; b < ProducerStateTable.RETAINED_BATCHES; b++) {
                state.update(ids[p], EPOCH, b * RECORDS, RECORDS - 1, nextOffset, NOW_MS);
                nextOffset += RECORDS;
            }
        }
        // A random permutation (Fisher-Yates), stored by value so the benchmark itself reads memory sequentially:
        // the table's own random accesses are what is measured, as when batches carry their producer id.
        permuted = ids.clone();
        for (int i = producers - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = permuted[i];
            permuted[i] = permuted[j];
            permuted[j] = t;
        }
        long id = permuted[0];
        if (state.check(id, EPOCH, nextSequence(), RECORDS - 1) != SequenceOutcome.ACCEPT
            || state.check(id, EPOCH, duplicateSequence(), RECORDS - 1) != SequenceOutcome.DUPLICATE
            || state.check(id, EPOCH, gapSequence(), RECORDS - 1) != SequenceOutcome.OUT_OF_ORDER) {
            throw new IllegalStateException("fixture does not give the outcomes the benchmark measures");
        }
    }

    /** Every producer holds batches 0..4 (of {@link #RECORDS}); pass k appends batch 5 + k to each in turn. */
    private int nextSequence() {
        return (ProducerStateTable.RETAINED_BATCHES + pass) * RECORDS;
    }

    /** The window's middle batch: found after looking at a few cached batches, not the newest alone. */
    private static int duplicateSequence() {
        return 2 * RECORDS;
    }

    /** One batch beyond the next: a gap. */
    private static int gapSequence() {
        return (ProducerStateTable.RETAINED_BATCHES + 1) * RECORDS;
    }

    @Benchmark
    public SequenceOutcome inOrderAppend() {
        long id = permuted[cursor];
        int sequence = nextSequence();
        if (++cursor == producers) {
            cursor = 0;
            pass++;
        }
        SequenceOutcome outcome = state.check(id, EPOCH, sequence, RECORDS - 1);
        state.update(id, EPOCH, sequence, RECORDS - 1, nextOffset, NOW_MS);
        nextOffset += RECORDS;
        return outcome;
    }

    /** The check alone, for the common in-sequence batch (state not advanced: the same answer every pass). */
    @Benchmark
    public SequenceOutcome inOrderCheck() {
        long id = permuted[cursor];
        if (++cursor == producers) {
            cursor = 0;
        }
        return state.check(id, EPOCH, ProducerStateTable.RETAINED_BATCHES * RECORDS, RECORDS - 1);
    }

    @Benchmark
    public long duplicate() {
        long id = permuted[cursor];
        if (++cursor == producers) {
            cursor = 0;
        }
        SequenceOutcome outcome = state.check(id, EPOCH, duplicateSequence(), RECORDS - 1);
        return outcome == SequenceOutcome.DUPLICATE ? state.duplicateFirstOffset() : -1L;
    }

    @Benchmark
    public SequenceOutcome outOfOrder() {
        long id = permuted[cursor];
        if (++cursor == producers) {
            cursor = 0;
        }
        return state.check(id, EPOCH, gapSequence(), RECORDS - 1);
    }
}
