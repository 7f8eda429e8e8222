package io.idemlog.bench.state;

import io.idemlog.server.state.KeyWindow;
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
 * These three read each key from a 36 MB buffer at a random place, which is a cache miss of its own that the
 * produce path does not have (there the key is in the request buffer being walked). So also:
 * <ul>
 *   <li>{@code newKeyAtBound}: what one record with a new key costs the window on the produce path, with the key
 *       hot in a 16-byte buffer (8-byte nonce + 8-byte counter, as the e2e dedup-cost benchmark sends): hash it,
 *       probe for it (a miss), enter it into the full window (the oldest is evicted);</li>
 *   <li>{@code newKeysBatchAtBound}: the same per key, for a batch of 512 new keys as {@code DedupFilter} does it
 *       (hash them all, {@link KeyWindow#prefetch} so the lookups' cache misses overlap,
 *       then probe each and enter each).</li>
 * </ul>
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
    private final KeyWindow.Verifier none = o -> false;
    static final int BATCH = 512;
    private final long[] batchHashes = new long[BATCH];
    private ByteBuffer hot;
    private long counter;

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
        hot = ByteBuffer.allocateDirect(16);
        hot.putLong(0, 0x6964656D6C6F6721L);
        counter = 0;
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

    @Benchmark
    public long newKeyAtBound() {
        hot.putLong(8, counter++);
        long hash = KeyWindow.hash(hot, 0, 16);
        long found = window.findOriginal(hash, NOW_MS, none);
        window.add(hash, offset++, NOW_MS);
        return found;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long newKeysBatchAtBound() {
        for (int k = 0; k < BATCH; k++) {
            hot.putLong(8, counter++);
            batchHashes[k] = KeyWindow.hash(hot, 0, 16);
        }
        window.prefetch(batchHashes, BATCH);
        long found = 0;
        for (int k = 0; k < BATCH; k++) {
            found += window.findOriginal(batchHashes[k], NOW_MS, none);
        }
        for (int k = 0; k < BATCH; k++) {
            window.add(batchHashes[k], offset++, NOW_MS);
        }
        return found;
    }
}
