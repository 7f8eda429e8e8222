package io.idemlog.server.state;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link KeyWindow} against an obviously correct model (a queue of entries in append order), over random operation
 * sequences (seeded; a failure names its seed): adds with hashes from a small domain (so several entries share a hash,
 * as a collision or a key stored again after expiry does), clock steps (also backwards), expiry, lookups with a
 * verifier that accepts any candidate or only one offset. Plus: window expiry on an injected clock, the key bound and
 * its eviction count, growth, and the snapshot file round trip (state after load == state before).
 */
class KeyWindowTest {
    /** The model: entries oldest first, the same clamping of time. */
    static final class Model {
        record Entry(long hash, long offset, long time) {
        }

        final ArrayDeque<Entry> entries = new ArrayDeque<>();
        final long window;
        final int max;
        long last = Long.MIN_VALUE;
        long evictions;

        Model(long window, int max) {
            this.window = window;
            this.max = max;
        }

        void add(long hash, long offset, long now) {
            long t = Math.max(now, last);
            last = t;
            expire(t);
            if (entries.size() == max) {
                entries.poll();
                evictions++;
            }
            entries.add(new Entry(hash, offset, t));
        }

        void expire(long now) {
            long t = Math.max(now, last);
            while (!entries.isEmpty() && t - entries.peek().time() >= window) {
                entries.poll();
            }
        }

        Set<Long> live(long hash, long now) {
            long t = Math.max(now, last);
            Set<Long> out = new HashSet<>();
            for (Entry e : entries) {
                if (e.hash() == hash && t - e.time() < window) {
                    out.add(e.offset());
                }
            }
            return out;
        }
    }

    static List<long[]> entries(KeyWindow w) {
        List<long[]> out = new ArrayList<>();
        w.forEachOldestFirst((h, o, t) -> out.add(new long[] {h, o, t}));
        return out;
    }

    static List<long[]> entries(Model m) {
        List<long[]> out = new ArrayList<>();
        for (Model.Entry e : m.entries) {
            out.add(new long[] {e.hash(), e.offset(), e.time()});
        }
        return out;
    }

    static void assertSameEntries(List<long[]> expected, List<long[]> actual, String message) {
        assertEquals(expected.size(), actual.size(), message + ": size");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(java.util.Arrays.toString(expected.get(i)), java.util.Arrays.toString(actual.get(i)),
                message + ": entry " + i);
        }
    }

    @Test
    void agreesWithTheModelOverRandomOperations() {
        agreesWithTheModel(0);
    }

    /** The same with the entries' sequence numbers starting just below 2^30, so that they wrap during each run. */
    @Test
    void agreesWithTheModelAcrossTheSequenceNumberWrap() {
        agreesWithTheModel((1 << KeyWindow.SEQ_BITS) - 700);
    }

    private static void agreesWithTheModel(int firstSeq) {
        for (int seed = 0; seed < 300; seed++) {
            Random r = new Random(seed);
            long window = 1 + r.nextInt(200);
            int max = 1 + r.nextInt(r.nextBoolean() ? 8 : 300);
            KeyWindow w = new KeyWindow(window, max, firstSeq);
            Model m = new Model(window, max);
            long now = 1_000;
            long offset = 0;
            int hashes = 1 + r.nextInt(r.nextBoolean() ? 4 : 500);
            for (int op = 0; op < 2_000; op++) {
                int kind = r.nextInt(10);
                if (kind < 5) {
                    long h = r.nextInt(hashes) * 0x9E3779B97F4A7C15L;
                    w.add(h, offset, now);
                    m.add(h, offset, now);
                    offset += 1 + r.nextInt(3);
                } else if (kind < 7) {
                    now += r.nextInt(r.nextBoolean() ? 5 : 100) - (r.nextInt(10) == 0 ? 50 : 0);
                } else if (kind < 8) {
                    w.expire(now);
                    m.expire(now);
                } else {
                    long h = r.nextInt(hashes) * 0x9E3779B97F4A7C15L;
                    Set<Long> live = m.live(h, now);
                    long any = w.findOriginal(h, now, o -> true);
                    String where = "seed " + seed + " op " + op;
                    if (live.isEmpty()) {
                        assertEquals(-1L, any, where);
                    } else {
                        assertTrue(live.contains(any), where + ": " + any + " not in " + live);
                    }
                    assertEquals(!live.isEmpty(), w.containsHash(h, now), where);
                    // A verifier that accepts only one candidate: found exactly when that one is live.
                    long wanted = live.isEmpty() ? offset : live.iterator().next();
                    assertEquals(live.contains(wanted) ? wanted : -1L, w.findOriginal(h, now, o -> o == wanted),
                        where);
                }
                assertTrue(w.size() <= max);
            }
            assertSameEntries(entries(m), entries(w), "seed " + seed);
            assertEquals(m.evictions, w.evictions(), "seed " + seed);
        }
    }

    @Test
    void aKeyIsLiveForExactlyTheWindowOnTheInjectedClock() {
        KeyWindow w = new KeyWindow(1_000, 10);
        w.add(42L, 7L, 5_000);
        assertEquals(7L, w.findOriginal(42L, 5_999, o -> true));
        assertEquals(-1L, w.findOriginal(42L, 6_000, o -> true));
        assertEquals(1, w.size(), "not removed by a lookup");
        assertEquals(1, w.expire(6_000));
        assertEquals(0, w.size());
        assertEquals(1, w.expirations());
    }

    @Test
    void aClockThatStepsBackDoesNotReorderOrRevive() {
        KeyWindow w = new KeyWindow(1_000, 10);
        w.add(1L, 0L, 10_000);
        w.add(2L, 1L, 9_000); // stored "at" 10_000: never older than the entry before it
        assertEquals(1L, w.findOriginal(2L, 10_999, o -> true));
        assertEquals(-1L, w.findOriginal(2L, 11_000, o -> true));
    }

    @Test
    void theBoundEvictsTheOldestAndCountsEachEviction() {
        KeyWindow w = new KeyWindow(Long.MAX_VALUE / 4, 100);
        for (int i = 0; i < 250; i++) {
            w.add(i * 31L + 1, i, 1_000 + i);
        }
        assertEquals(100, w.size());
        assertEquals(150, w.evictions());
        assertEquals(-1L, w.findOriginal(149 * 31L + 1, 2_000, o -> true), "evicted");
        assertEquals(150L, w.findOriginal(150 * 31L + 1, 2_000, o -> true), "the oldest kept");
        assertTrue(w.retainedBytes() <= 128 * 24 + 256 * 8, "grew no further than the bound needs");
    }

    /**
     * Eviction leaves the evicted key's index word stale (only the ring's head moves); the sweep must keep the index
     * bounded (at most ~2/3 full) over many rounds of the whole window, and no evicted or expired key may be found
     * again, whether its word was already swept or not.
     */
    @Test
    void staleWordsStayBoundedAndAreNeverFound() {
        int max = 1 << 12;
        KeyWindow w = new KeyWindow(Long.MAX_VALUE / 4, max);
        int indexSize = 2 * max;
        int mostWords = 0;
        for (int i = 0; i < 50 * max; i++) {
            w.add(i * 0x9E3779B97F4A7C15L, i, 1_000);
            if (i >= max) {
                int words = w.indexWords();
                mostWords = Math.max(mostWords, words);
                if (i % 97 == 0) {
                    long evicted = (long) (i - max) * 0x9E3779B97F4A7C15L;
                    assertEquals(-1L, w.findOriginal(evicted, 1_000, o -> true), "evicted key " + (i - max));
                    long kept = (long) (i - max + 1) * 0x9E3779B97F4A7C15L;
                    assertEquals(i - max + 1, w.findOriginal(kept, 1_000, o -> true), "oldest kept key");
                }
            }
        }
        assertEquals(max, w.size());
        System.out.printf("KeyWindowTest: index words at most %d of %d (%.1f %%), at the end %d%n", mostWords,
            indexSize, 100.0 * mostWords / indexSize, w.indexWords());
        assertTrue(mostWords <= indexSize * 2 / 3, "index words at most " + mostWords + " of " + indexSize);
        // Expiry: every entry leaves at once; none is found, and adds afterwards sweep the stale words away.
        assertEquals(max, w.expire(Long.MAX_VALUE / 2));
        assertEquals(-1L, w.findOriginal((long) (50 * max - 1) * 0x9E3779B97F4A7C15L, Long.MAX_VALUE / 2, o -> true));
        for (int i = 0; i < max; i++) {
            w.add(-1L - i, i, Long.MAX_VALUE / 2);
        }
        assertTrue(w.indexWords() <= indexSize * 2 / 3, "after expiry: " + w.indexWords());
    }

    @Test
    void growsFromSmallToAMillionKeysAndFindsEveryOne() {
        int n = 1_000_000;
        KeyWindow w = new KeyWindow(Long.MAX_VALUE / 4, n);
        ByteBuffer key = ByteBuffer.allocate(16);
        for (int i = 0; i < n; i++) {
            key.putLong(0, i).putLong(8, ~i);
            w.add(KeyWindow.hash(key, 0, 16), i, 1_000);
        }
        for (int i = 0; i < n; i += 997) {
            key.putLong(0, i).putLong(8, ~i);
            int expected = i;
            assertEquals(i, w.findOriginal(KeyWindow.hash(key, 0, 16), 1_000, o -> o == expected));
        }
        assertEquals(0, w.evictions());
        // 2^20 ring slots of 24 bytes and 2^21 index slots of 8 bytes: 40 bytes per key at 1M keys.
        assertEquals((1L << 20) * 24 + (1L << 21) * 8, w.retainedBytes());
    }

    @Test
    void theHashSeesEveryByteAndTheLength() {
        byte[] a = "order-000001".getBytes(StandardCharsets.UTF_8);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < a.length; i++) {
            byte[] b = a.clone();
            b[i] ^= 1;
            assertTrue(seen.add(KeyWindow.hash(ByteBuffer.wrap(b), 0, b.length)), "byte " + i);
        }
        assertTrue(seen.add(KeyWindow.hash(ByteBuffer.wrap(a), 0, a.length)));
        assertTrue(seen.add(KeyWindow.hash(ByteBuffer.wrap(a), 0, a.length - 1)));
        assertTrue(seen.add(KeyWindow.hash(ByteBuffer.wrap(new byte[0]), 0, 0)));
        ByteBuffer direct = ByteBuffer.allocateDirect(a.length + 3);
        direct.put(3, a);
        assertEquals(KeyWindow.hash(ByteBuffer.wrap(a), 0, a.length), KeyWindow.hash(direct, 3, a.length),
            "heap or direct, any position: the same hash");
    }

    @Test
    void aSnapshotLoadsBackTheSameWindow() throws Exception {
        Random r = new Random(7);
        KeyWindow w = new KeyWindow(10_000, 500);
        long now = 100_000;
        for (int i = 0; i < 800; i++) {
            now += r.nextInt(30);
            w.add(r.nextLong(), i, now);
        }
        ByteBuffer bytes = KeyWindowFile.serialize(800, "event-id", w);
        KeyWindow loaded = new KeyWindow(10_000, 500);
        KeyWindowFile.Loaded l = KeyWindowFile.read(bytes, "test", "event-id", loaded);
        assertEquals(800, l.logOffset());
        assertSameEntries(entries(w), entries(loaded), "after load");
        assertNull(KeyWindowFile.read(bytes, "test", "other-header", new KeyWindow(10_000, 500)),
            "another header's snapshot is not used");
        for (int cut : new int[] {0, 5, bytes.remaining() / 2, bytes.remaining() - 1}) {
            ByteBuffer shorter = bytes.duplicate().limit(cut);
            assertThrows(CorruptSnapshotException.class,
                () -> KeyWindowFile.read(shorter, "test", "event-id", new KeyWindow(10_000, 500)));
        }
        ByteBuffer flipped = ByteBuffer.allocate(bytes.remaining()).put(bytes.duplicate()).flip();
        flipped.put(40, (byte) (flipped.get(40) ^ 1));
        assertThrows(CorruptSnapshotException.class,
            () -> KeyWindowFile.read(flipped, "test", "event-id", new KeyWindow(10_000, 500)));
    }
}
