package io.idemlog.server.state;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        Path file = ProducerSnapshotFile.write(dir, 1234L, Long.MAX_VALUE, original);
        assertEquals("00000000000000001234.snapshot", file.getFileName().toString());
        SlabProducerStateTable loaded = table();
        assertEquals(new ProducerSnapshotFile.Loaded(1234L, Long.MAX_VALUE), ProducerSnapshotFile.load(file, loaded));
        assertEquals(ProducerStateTableContract.dump(original), ProducerStateTableContract.dump(loaded));
        assertEquals(5, ProducerStateTableContract.dump(loaded).get(0).split("\\|").length - 1);
        // the loaded state answers duplicates of all 5 batches with their original offsets
        assertEquals(SequenceOutcome.DUPLICATE, loaded.check(10L, (short) 2, Integer.MAX_VALUE - 20 + 6, 2));
        assertEquals(6L, loaded.duplicateFirstOffset());
    }

    @Test
    void anEmptyTableRoundTrips() throws IOException {
        Path file = ProducerSnapshotFile.write(dir, 0L, -1L, table());
        SlabProducerStateTable loaded = table();
        assertEquals(new ProducerSnapshotFile.Loaded(0L, -1L), ProducerSnapshotFile.load(file, loaded));
        assertEquals(0, loaded.size());
    }

    @Test
    void aSnapshotWithAnyFlippedByteIsRejectedAndLoadsNothing() throws IOException {
        Path file = ProducerSnapshotFile.write(dir, 99L, Long.MAX_VALUE, sample());
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
        Path file = ProducerSnapshotFile.write(dir, 99L, Long.MAX_VALUE, sample());
        byte[] good = Files.readAllBytes(file);
        for (int length : new int[] {0, 3, 20, 23, 28, 31, good.length / 2, good.length - 1}) {
            Files.write(file, Arrays.copyOf(good, length));
            assertThrows(CorruptSnapshotException.class, () -> ProducerSnapshotFile.load(file, table()),
                "length " + length);
        }
    }

    @Test
    void extraBytesAfterTheEntriesAreRejectedEvenWithAMatchingCrc() throws IOException {
        Path file = ProducerSnapshotFile.write(dir, 5L, -1L, table());
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
    void theHighestProducerIdRoundTripsAndTheInMemoryBytesEqualTheStreamedFile() throws IOException {
        SlabProducerStateTable original = sample();
        ByteBuffer bytes = ProducerSnapshotFile.serialize(77L, Long.MAX_VALUE, original);
        Path streamed = ProducerSnapshotFile.write(dir, 77L, Long.MAX_VALUE, original);
        assertArrayEquals(Files.readAllBytes(streamed), Arrays.copyOf(bytes.array(), bytes.limit()));
        Path other = Files.createDirectory(dir.resolve("other"));
        Path written = ProducerSnapshotFile.writeBytes(other, 77L, bytes);
        SlabProducerStateTable loaded = table();
        assertEquals(new ProducerSnapshotFile.Loaded(77L, Long.MAX_VALUE), ProducerSnapshotFile.load(written, loaded));
        assertEquals(ProducerStateTableContract.dump(original), ProducerStateTableContract.dump(loaded));
        assertEquals(0, bytes.position(), "writeBytes leaves the buffer as it was");
    }

    @Test
    void anEntryAboveTheRecordedHighestProducerIdIsRejected() throws IOException {
        // producer 11 is held, but the header claims no id above 10: the file contradicts itself
        SlabProducerStateTable t = table();
        t.update(11L, (short) 0, 0, 0, 0L, T0);
        Path file = ProducerSnapshotFile.write(dir, 1L, 10L, t);
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class,
            () -> ProducerSnapshotFile.load(file, table()));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("entry 0 malformed"),
            e.getMessage());
    }

    @Test
    void aVersion1SnapshotStillLoadsWithAnUnknownHighestProducerId() throws IOException {
        // the format before maxProducerId: magic, version 1, reserved, logOffset, entryCount, entries, crc
        ByteBuffer v1 = ByteBuffer.allocate(ProducerSnapshotFile.V1_HEADER_SIZE + ProducerSnapshotFile.ENTRY_HEADER_SIZE
            + ProducerSnapshotFile.BATCH_SIZE + ProducerSnapshotFile.CRC_SIZE);
        v1.putInt(ProducerSnapshotFile.MAGIC).putShort((short) 1).putShort((short) 0).putLong(40L).putInt(1);
        v1.putLong(7L).putShort((short) 3).putLong(T0).put((byte) 1);
        v1.putInt(12).putInt(1).putLong(30L);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(v1.array(), 0, v1.position());
        v1.putInt((int) crc.getValue());
        Path file = ProducerSnapshotFile.path(dir, 40L);
        Files.write(file, v1.array());
        SlabProducerStateTable loaded = table();
        assertEquals(new ProducerSnapshotFile.Loaded(40L, ProducerSnapshotFile.MAX_PRODUCER_ID_UNKNOWN),
            ProducerSnapshotFile.load(file, loaded));
        assertEquals(SequenceOutcome.DUPLICATE, loaded.check(7L, (short) 3, 12, 1));
        assertEquals(30L, loaded.duplicateFirstOffset());
    }

    @Test
    void anyBytesEitherLoadOrAreRefusedAsACorruptSnapshotNamingTheSource() throws IOException {
        byte[] good = Files.readAllBytes(ProducerSnapshotFile.write(dir, 99L, Long.MAX_VALUE, sample()));
        long seed = Long.getLong("idemlog.seed", System.nanoTime());
        Random random = new Random(seed);
        for (int i = 0; i < 3000; i++) {
            byte[] bytes = random.nextBoolean() ? good.clone() : new byte[random.nextInt(200)];
            if (bytes.length > 0) {
                for (int flips = random.nextInt(4); flips >= 0; flips--) {
                    bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                }
            }
            if (random.nextInt(4) == 0 && bytes.length >= 4) {
                // a CRC that matches, so the structural checks are reached too
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(bytes, 0, bytes.length - 4);
                ByteBuffer.wrap(bytes).putInt(bytes.length - 4, (int) crc.getValue());
            }
            try {
                ProducerSnapshotFile.read(ByteBuffer.wrap(bytes), "fuzz-" + i, table());
            } catch (CorruptSnapshotException e) {
                assertTrue(e.getMessage().startsWith("fuzz-" + i), e.getMessage());
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + " case " + i + ": " + e, e);
            }
        }
    }

    @Test
    void listingRetentionAndDeletionAboveAnOffset() throws IOException {
        for (long offset : new long[] {300L, 5L, 1000L, 40L}) {
            ProducerSnapshotFile.write(dir, offset, -1L, table());
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
