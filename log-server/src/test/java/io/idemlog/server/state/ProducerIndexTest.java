package io.idemlog.server.state;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProducerIndexTest {
    @Test
    void agreesWithAHashMapThroughInsertsRemovalsAndGrowth() {
        long seed = 20261122L;
        SplittableRandom random = new SplittableRandom(seed);
        ProducerIndex index = new ProducerIndex(16, 0.75f);
        Map<Long, long[]> reference = new HashMap<>();
        List<Long> keys = new ArrayList<>();
        for (int step = 0; step < 200_000; step++) {
            int op = random.nextInt(10);
            if (op < 5 || keys.isEmpty()) {
                // a small key space makes collisions, long probe runs and wrap-around at the table's end common
                long key = random.nextLong(5_000);
                if (!reference.containsKey(key)) {
                    long meta = random.nextLong();
                    int slot = random.nextInt(1 << 20);
                    index.insert(key, meta, slot);
                    reference.put(key, new long[] {meta, slot});
                    keys.add(key);
                }
            } else if (op < 8) {
                long key = keys.remove(random.nextInt(keys.size()));
                index.remove(key);
                reference.remove(key);
            } else {
                long key = keys.get(random.nextInt(keys.size()));
                long meta = random.nextLong();
                index.meta(index.find(key), meta);
                reference.get(key)[0] = meta;
            }
            if (step % 997 == 0) {
                for (Map.Entry<Long, long[]> e : reference.entrySet()) {
                    int b = index.find(e.getKey());
                    assertTrue(b >= 0, "lost key " + e.getKey() + " at step " + step + " (seed " + seed + ")");
                    assertEquals(e.getValue()[0], index.meta(b));
                    assertEquals((int) e.getValue()[1], index.slot(b));
                }
                for (int i = 0; i < 50; i++) {
                    long absent = 5_000 + random.nextLong(1_000_000);
                    assertEquals(-1, index.find(absent));
                }
                assertEquals(reference.size(), index.size());
            }
        }
    }

    @Test
    void removingAnAbsentKeyChangesNothing() {
        ProducerIndex index = new ProducerIndex(16, 0.75f);
        index.insert(7L, 70L, 1);
        index.remove(8L);
        assertEquals(1, index.size());
        assertEquals(70L, index.meta(index.find(7L)));
    }
}
