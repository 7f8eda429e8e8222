package io.idemlog.server.state;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The log-start-offset file: round trip, atomic replacement, and every kind of damage refused by name. */
class LogStartOffsetFileTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsAndReplacesAtomically() throws IOException {
        assertEquals(-1L, LogStartOffsetFile.readIfExists(dir), "no file");
        LogStartOffsetFile.write(dir, 42L);
        assertEquals(42L, LogStartOffsetFile.readIfExists(dir));
        LogStartOffsetFile.write(dir, Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE, LogStartOffsetFile.readIfExists(dir));
        assertFalse(Files.exists(dir.resolve(LogStartOffsetFile.FILE_NAME + DurableFiles.TMP_SUFFIX)));
        assertEquals(LogStartOffsetFile.FILE_SIZE, Files.size(LogStartOffsetFile.path(dir)));
    }

    @Test
    void everySingleBitFlipIsRefusedNamingTheFile() throws IOException {
        LogStartOffsetFile.write(dir, 123_456L);
        Path file = LogStartOffsetFile.path(dir);
        byte[] good = Files.readAllBytes(file);
        for (int bit = 0; bit < good.length * 8; bit++) {
            byte[] bad = good.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            Files.write(file, bad);
            CorruptFileException e = assertThrows(CorruptFileException.class,
                () -> LogStartOffsetFile.readIfExists(dir), "bit " + bit);
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
    }

    @Test
    void anyOtherSizeOrRandomBytesAreCorruptNeverAnotherException() throws IOException {
        Random random = new Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] bytes = new byte[random.nextInt(40)];
            random.nextBytes(bytes);
            try {
                long start = LogStartOffsetFile.parse(ByteBuffer.wrap(bytes), "random");
                assertTrue(start >= 0);
            } catch (CorruptFileException expected) {
                assertEquals("random", expected.file());
            }
        }
        Files.write(LogStartOffsetFile.path(dir), new byte[21]);
        assertTrue(assertThrows(CorruptFileException.class, () -> LogStartOffsetFile.readIfExists(dir))
            .getMessage().contains("size 21"));
        assertThrows(IllegalArgumentException.class, () -> LogStartOffsetFile.write(dir, -1L));
    }
}
