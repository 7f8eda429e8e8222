package io.idemlog.server.state;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProducerIdAllocatorTest {
    @TempDir
    Path dir;

    @Test
    void idsAreConsecutiveWithinABlockAndTheBlockIsPersistedBeforeTheFirstIsHandedOut() throws IOException {
        ProducerIdAllocator ids = ProducerIdAllocator.open(dir, 10);
        assertEquals(0L, ids.nextProducerId());
        assertTrue(Files.exists(dir.resolve(ProducerIdAllocator.FILE_NAME)));
        for (long expected = 1; expected < 25; expected++) {
            assertEquals(expected, ids.nextProducerId());
        }
    }

    @Test
    void aCrashInTheMiddleOfABlockNeverLeadsToAReusedId() throws IOException {
        Set<Long> used = new HashSet<>();
        for (int life = 0; life < 5; life++) {
            // each "life" takes a few ids and then vanishes without any shutdown, as after kill -9
            ProducerIdAllocator ids = ProducerIdAllocator.open(dir, 1000);
            for (int i = 0; i < 3 + life * 400; i++) {
                assertTrue(used.add(ids.nextProducerId()), "id handed out twice");
            }
        }
        assertEquals(3 + 403 + 803 + 1203 + 1603, used.size());
    }

    @Test
    void aFreshDirectoryStartsAtZero() throws IOException {
        assertEquals(0L, ProducerIdAllocator.open(dir, 1000).nextProducerId());
        assertEquals(1000L, ProducerIdAllocator.open(dir, 1000).nextProducerId());
    }

    @Test
    void aDamagedFileRefusesToStartRatherThanRiskReuse() throws IOException {
        ProducerIdAllocator.open(dir, 1000).nextProducerId();
        Path file = dir.resolve(ProducerIdAllocator.FILE_NAME);
        byte[] bytes = Files.readAllBytes(file);
        bytes[10] ^= 1;
        Files.write(file, bytes);
        assertThrows(IOException.class, () -> ProducerIdAllocator.open(dir, 1000));
        Files.write(file, new byte[3]);
        assertThrows(IOException.class, () -> ProducerIdAllocator.open(dir, 1000));
    }

    @Test
    void concurrentCallersNeverGetTheSameId() throws Exception {
        ProducerIdAllocator ids = ProducerIdAllocator.open(dir, 100);
        Set<Long> seen = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<?>[] futures = new Future<?>[4];
            for (int t = 0; t < futures.length; t++) {
                futures[t] = pool.submit(() -> {
                    for (int i = 0; i < 1000; i++) {
                        if (!seen.add(ids.nextProducerId())) {
                            throw new AssertionError("duplicate id");
                        }
                    }
                    return null;
                });
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(4000, seen.size());
    }
}
