package io.idemlog.bench.state;

import io.idemlog.server.state.KeyWindow;
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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The de-duplication key check of the produce path (docs/DEDUP.md), per record, in a partition window holding
 * 1,000 or 1,000,000 keys (36-byte UUID-like keys, in a direct buffer as Netty hands records over):
 * <ul>
 *   <li>{@code missCheck}: hash a key that is not in the window and probe for it: what every new record costs;</li>
 *   <li>{@code hitCheck}: hash a key that is in the window and probe until the candidate (the verifier that then
 *       reads the stored record is not included: it runs only for a repeat);</li>
 *   <li>{@code addAtBound}: enter a new key into a full window (the oldest is evicted): what storing a record
 *       costs the window at the bound.</li>
 * </ul>
 * Keys are visited in a precomputed random order, so at 1,000,000 keys nearly every probe misses the CPU caches.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class KeyWindowBenchmark {
    static final int KEY_BYTES = 36;
    private static final long NOW_MS = 1_700_000_000_000L;

    @Param({"1000", "1000000"})
    int keys;

    private KeyWindow window;
    private ByteBuffer stored;
    private ByteBuffer fresh;
    private int[] order;
    private int next;
    private long offset;
    private final KeyWindow.Verifier any = o -> true;

    static void fill(ByteBuffer buf, int n, SplittableRandom random) {
        for (int i = 0; i < n * KEY_BYTES; i++) {
            buf.put(i, (byte) ('a' + random.nextInt(26)));
        }
    }

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(17);
        window = new KeyWindow(Long.MAX_VALUE / 4, keys);
        stored = ByteBuffer.allocateDirect(keys * KEY_BYTES);
        fresh = ByteBuffer.allocateDirect(keys * KEY_BYTES);
        fill(stored, keys, random);
        fill(fresh, keys, random);
        for (int i = 0; i < keys; i++) {
            window.add(KeyWindow.hash(stored, i * KEY_BYTES, KEY_BYTES), i, NOW_MS);
        }
        offset = keys;
        order = new int[keys];
        for (int i = 0; i < keys; i++) {
            order[i] = i;
        }
        for (int i = keys - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        if (window.findOriginal(KeyWindow.hash(stored, 0, KEY_BYTES), NOW_MS, any) != 0
            || window.findOriginal(KeyWindow.hash(fresh, 0, KEY_BYTES), NOW_MS, any) != -1) {
            throw new IllegalStateException("the window does not hold what the benchmark assumes");
        }
    }

    private int nextIndex() {
        int i = order[next];
        next = next + 1 == keys ? 0 : next + 1;
        return i;
    }

    @Benchmark
    public long missCheck() {
        int i = nextIndex();
        return window.findOriginal(KeyWindow.hash(fresh, i * KEY_BYTES, KEY_BYTES), NOW_MS, any);
    }

    @Benchmark
    public long hitCheck() {
        int i = nextIndex();
        return window.findOriginal(KeyWindow.hash(stored, i * KEY_BYTES, KEY_BYTES), NOW_MS, any);
    }

    @Benchmark
    public int addAtBound() {
        int i = nextIndex();
        window.add(KeyWindow.hash(fresh, i * KEY_BYTES, KEY_BYTES), offset++, NOW_MS);
        return window.size();
    }
}
