package io.idemlog.server.state;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The leader epoch cache's KIP-320 answers, and its file: round trip, every damage refused naming the file. */
class LeaderEpochFileTest {
    @TempDir
    Path dir;

    private static LeaderEpochCache cache(long... epochAndStart) {
        LeaderEpochCache c = new LeaderEpochCache();
        for (int i = 0; i < epochAndStart.length; i += 2) {
            assertTrue(c.assign((int) epochAndStart[i], epochAndStart[i + 1]));
        }
        return c;
    }

    @Test
    void endOffsetForEpochAnswersAsKafkaDoes() {
        LeaderEpochCache c = cache(2, 0, 5, 100, 9, 250);
        long logEnd = 400;
        assertArrayEquals(new long[] {9, 400}, c.endOffsetFor(9, logEnd), "latest epoch: the log end");
        assertArrayEquals(new long[] {5, 250}, c.endOffsetFor(5, logEnd), "older: the next epoch's start");
        assertArrayEquals(new long[] {5, 250}, c.endOffsetFor(7, logEnd), "unknown between: the floor epoch");
        assertArrayEquals(new long[] {2, 100}, c.endOffsetFor(3, logEnd));
        assertArrayEquals(new long[] {1, 0}, c.endOffsetFor(1, logEnd), "below every epoch: the first start");
        assertArrayEquals(new long[] {-1, -1}, c.endOffsetFor(10, logEnd), "above every epoch: undefined");
        assertArrayEquals(new long[] {-1, -1}, c.endOffsetFor(-1, logEnd));
        assertArrayEquals(new long[] {-1, -1}, new LeaderEpochCache().endOffsetFor(0, 0));
    }

    @Test
    void assignOnlyRecordsNewerEpochsAndTruncateDropsTheCutOnes() {
        LeaderEpochCache c = cache(0, 0);
        assertFalse(c.assign(0, 10), "same epoch: nothing changes");
        assertTrue(c.assign(3, 10));
        assertFalse(c.assign(2, 20), "an older epoch is not recorded");
        assertThrows(IllegalArgumentException.class, () -> c.assign(4, 5), "start below the latest's");
        assertTrue(c.assign(4, 10), "an epoch without data before the next starts at the same offset");
        assertEquals("[0@0, 3@10, 4@10]", c.toString());
        assertTrue(c.truncateFromEnd(10));
        assertEquals("[0@0]", c.toString());
        assertFalse(c.truncateFromEnd(1));
        assertTrue(c.truncateFromEnd(0));
        assertEquals(0, c.size());
    }

    @Test
    void roundTripsAndAbsentIsNull() throws IOException {
        assertNull(LeaderEpochFile.readIfExists(dir));
        LeaderEpochCache c = cache(0, 0, 7, 1234, 8, 1L << 40);
        LeaderEpochFile.write(dir, c);
        assertEquals(c, LeaderEpochFile.readIfExists(dir));
        LeaderEpochFile.write(dir, new LeaderEpochCache());
        assertEquals(0, LeaderEpochFile.readIfExists(dir).size());
    }

    @Test
    void everyFlippedByteAndEveryTruncationIsRefusedNamingTheFile() throws IOException {
        LeaderEpochFile.write(dir, cache(0, 0, 7, 1234, 8, 5000));
        Path file = LeaderEpochFile.path(dir);
        byte[] good = Files.readAllBytes(file);
        for (int i = 0; i < good.length; i++) {
            for (int bit = 0; bit < 8; bit += 3) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << bit);
                Files.write(file, bad);
                CorruptFileException e = assertThrows(CorruptFileException.class,
                    () -> LeaderEpochFile.readIfExists(dir), "byte " + i + " bit " + bit);
                assertTrue(e.getMessage().contains(LeaderEpochFile.FILE_NAME), e.getMessage());
            }
        }
        for (int len = 0; len < good.length; len++) {
            Files.write(file, java.util.Arrays.copyOf(good, len));
            assertThrows(CorruptFileException.class, () -> LeaderEpochFile.readIfExists(dir), "length " + len);
        }
        Files.write(file, good);
        assertEquals(3, LeaderEpochFile.readIfExists(dir).size(), "control: the intact file reads");
    }

    @Test
    void outOfOrderEntriesWithAValidCrcAreRefused() {
        ByteBuffer ok = LeaderEpochFile.serialize(cache(1, 0, 2, 10));
        ByteBuffer swapped = ByteBuffer.allocate(ok.capacity()).put(ok.duplicate());
        swapped.putInt(LeaderEpochFile.HEADER_SIZE, 3); // epoch 3 at 0, then epoch 2 at 10
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(swapped.duplicate().position(0).limit(swapped.capacity() - 4));
        swapped.putInt(swapped.capacity() - 4, (int) crc.getValue());
        CorruptFileException e = assertThrows(CorruptFileException.class,
            () -> LeaderEpochFile.parse(swapped.duplicate().position(0), "leader-epochs (test)"));
        assertTrue(e.getMessage().contains("out of order"), e.getMessage());
        assertEquals(2, assertDoesNotThrowParse(ok).size(), "control");
    }

    private static LeaderEpochCache assertDoesNotThrowParse(ByteBuffer bytes) {
        try {
            return LeaderEpochFile.parse(bytes.duplicate().position(0), "test");
        } catch (CorruptFileException e) {
            throw new AssertionError(e);
        }
    }
}
