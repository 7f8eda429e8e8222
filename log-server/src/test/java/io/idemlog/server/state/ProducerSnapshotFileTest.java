package io.idemlog.server.state;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ProducerSnapshotFileTest {
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private static SlabProducerStateTable table() {
        return new SlabProducerStateTable(1000, 60_000L);
    }

    /** Three producers: one with all 5 batches and a wrapped sequence, one on a later epoch, one with one batch. */
    private static SlabProducerStateTable sample() {
        SlabProducerStateTable t = table();
        long offset = 0;
        for (int i = 0; i < 7; i++) {
            t.update(10L, (short) 2, Integer.MAX_VALUE - 20 + 3 * i, 2, offset, T0 + i);
            offset += 3;
        }
        t.update(11L, (short) 0, 0, 0, offset++, T0 + 10);
        t.update(11L, (short) 5, 0, 4, offset, T0 + 11);
        offset += 5;
        t.update(Long.MAX_VALUE, (short) 0, 42, 0, offset, T0 + 12);
        return t;
    }

    @Test
    void snapshotRoundTripKeepsEveryBatchEpochAndWriteTimeInLruOrder() throws IOException {
        SlabProducerStateTable original = sample();
        Path file = ProducerSnapshotFile.write(dir, 1234L, original);
        assertEquals("00000000000000001234.snapshot", file.getFileName().toString());
        SlabProducerStateTable loaded = table();
        assertEquals(1234L, ProducerSnapshotFile.load(file, loaded));
        assertEquals(ProducerStateTableContract.dump(original), ProducerStateTableContract.dump(loaded));
        String producer10 = ProducerStateTableContract.dump(loaded).stream().filter(e -> e.startsWith("pid=10 "))
            .findFirst().orElseThrow();
        assertEquals(5, producer10.split("\\|").length - 1);
        // the loaded state answers duplicates of all 5 batches with their original offsets
        assertEquals(SequenceOutcome.DUPLICATE, loaded.check(10L, (short) 2, Integer.MAX_VALUE - 20 + 6, 2));
        assertEquals(6L, loaded.duplicateFirstOffset());
    }

    @Test
    void anEmptyTableRoundTrips() throws IOException {
        Path file = ProducerSnapshotFile.write(dir, 0L, table());
        SlabProducerStateTable loaded = table();
        assertEquals(0L, ProducerSnapshotFile.load(file, loaded));
        assertEquals(0, loaded.size());
    }

    @Test
    void aSnapshotWithAnyFlippedByteIsRejectedAndLoadsNothing() throws IOException {
        Path file = ProducerSnapshotFile.write(dir, 99L, sample());
        byte[] good = Files.readAllBytes(file);
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= 0x10;
            Files.write(file, bad);
            SlabProducerStateTable into = table();
            assertThrows(CorruptSnapshotException.class, () -> ProducerSnapshotFile.load(file, into),
                "flipped byte " + i);
            assertEquals(0, into.size());
        }
    }

    @Test
    void aTruncatedSnapshotIsRejected() throws IOException {
        Path file = ProducerSnapshotFile.write(dir, 99L, sample());
        byte[] good = Files.readAllBytes(file);
        for (int length : new int[] {0, 3, 20, 23, good.length / 2, good.length - 1}) {
            Files.write(file, Arrays.copyOf(good, length));
            assertThrows(CorruptSnapshotException.class, () -> ProducerSnapshotFile.load(file, table()),
                "length " + length);
        }
    }

    @Test
    void extraBytesAfterTheEntriesAreRejectedEvenWithAMatchingCrc() throws IOException {
        Path file = ProducerSnapshotFile.write(dir, 5L, table());
        byte[] good = Files.readAllBytes(file);
        // header of an empty table, 4 junk bytes, then a CRC recomputed over all of it
        byte[] bad = new byte[good.length + 4];
        System.arraycopy(good, 0, bad, 0, ProducerSnapshotFile.HEADER_SIZE);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bad, 0, bad.length - 4);
        java.nio.ByteBuffer.wrap(bad).putInt(bad.length - 4, (int) crc.getValue());
        Files.write(file, bad);
        assertThrows(CorruptSnapshotException.class, () -> ProducerSnapshotFile.load(file, table()));
    }

    @Test
    void listingRetentionAndDeletionAboveAnOffset() throws IOException {
        for (long offset : new long[] {300L, 5L, 1000L, 40L}) {
            ProducerSnapshotFile.write(dir, offset, table());
        }
        Files.writeString(dir.resolve("notes.snapshot"), "not a snapshot");
        assertArrayEquals(new long[] {5L, 40L, 300L, 1000L}, ProducerSnapshotFile.list(dir));
        ProducerSnapshotFile.deleteAbove(dir, 300L);
        assertArrayEquals(new long[] {5L, 40L, 300L}, ProducerSnapshotFile.list(dir));
        ProducerSnapshotFile.retainNewest(dir, 2);
        assertArrayEquals(new long[] {40L, 300L}, ProducerSnapshotFile.list(dir));
        assertFalse(Files.exists(dir.resolve("00000000000000000300.snapshot.tmp")));
    }
}
