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
    void aDamagedFileIsRefusedNamingTheFileAndWhatIsWrong() throws IOException {
        ProducerIdAllocator.open(dir, 1000).nextProducerId();
        Path file = dir.resolve(ProducerIdAllocator.FILE_NAME);
        byte[] good = Files.readAllBytes(file);
        byte[] flipped = good.clone();
        flipped[ProducerIdAllocator.RESERVED_END_OFFSET + 7] ^= 1;
        Files.write(file, flipped);
        CorruptFileException crc = assertThrows(CorruptFileException.class, () -> ProducerIdAllocator.open(dir, 1000));
        assertTrue(crc.getMessage().startsWith(file.toString()) && crc.getMessage().contains("CRC mismatch"),
            crc.getMessage());
        Files.write(file, java.util.Arrays.copyOf(good, 7));
        CorruptFileException size = assertThrows(CorruptFileException.class,
            () -> ProducerIdAllocator.open(dir, 1000, 5L));
        assertTrue(size.getMessage().contains("size 7, expected 20"), size.getMessage());
        Files.write(file, "not an id file".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(assertThrows(CorruptFileException.class, () -> ProducerIdAllocator.open(dir, 1000))
            .getMessage().contains("expected 20"));
    }

    @Test
    void aMissingFileWithProducerIdsInTheLogsStartsAboveThemAndWritesTheFile() throws IOException {
        ProducerIdAllocator ids = ProducerIdAllocator.open(dir, 1000, 123_456L);
        long first = ids.nextProducerId();
        assertTrue(first > 123_456L + ProducerIdAllocator.RECOVERY_MARGIN, "started at " + first);
        assertEquals(0L, first % 1000, "on a block boundary");
        // the recovered start is durable at once: a crash before any allocation keeps it
        assertTrue(ProducerIdAllocator.readIfExists(dir) > first);
    }

    @Test
    void aFileOlderThanTheLogsIsOverruledByTheLogs() throws IOException {
        ProducerIdAllocator.open(dir, 1000).nextProducerId(); // the file says [0, 1000) may be used
        long first = ProducerIdAllocator.open(dir, 1000, 50_000L).nextProducerId();
        assertTrue(first > 50_000L, "started at " + first);
        // and a file ahead of the logs is kept as it is
        assertEquals(first + 1000, ProducerIdAllocator.open(dir, 1000, 50_000L).nextProducerId());
    }

    @Test
    void anAbsurdProducerIdInTheLogsExhaustsTheSpaceInsteadOfWrappingOrFailingTheStart() throws IOException {
        ProducerIdAllocator ids = ProducerIdAllocator.open(dir, 1000, Long.MAX_VALUE - 5);
        IOException e = assertThrows(IOException.class, ids::nextProducerId);
        assertTrue(e.getMessage().contains("exhausted"), e.getMessage());
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
