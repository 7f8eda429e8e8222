package io.idemlog.server.state;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The producer-state snapshot loader under fuzzing: {@link ProducerSnapshotFile#load} of arbitrary file contents.
 * The first input byte says whether the harness rewrites the trailing CRC to match (so that mutations reach the
 * entry checks instead of all dying at the checksum); the rest is the file.
 * Invariants: it loads or refuses with an IOException (never another exception, never an allocation the file's size
 * does not justify); what it loads is a table that writes and loads back to the same content.
 */
class SnapshotLoadFuzzTest {
    private static Path dir;

    private static Path dir() throws IOException {
        if (dir == null) {
            dir = Files.createTempDirectory("idemlog-fuzz-snapshot");
        }
        return dir;
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
            dir = null;
        }
    }

    /** The file bytes of an input: input[1..], with the CRC-32C trailer repaired when input[0] is odd. */
    static byte[] withCrc(byte[] input) {
        byte[] contents = java.util.Arrays.copyOfRange(input, 1, input.length);
        if ((input[0] & 1) != 0 && contents.length >= 4) {
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(contents, 0, contents.length - 4);
            java.nio.ByteBuffer.wrap(contents).putInt(contents.length - 4, (int) crc.getValue());
        }
        return contents;
    }

    @FuzzTest(maxDuration = "10m")
    void load(byte[] input) throws IOException {
        if (input.length < 1) {
            return;
        }
        Path file = ProducerSnapshotFile.path(dir(), 100L);
        Files.write(file, withCrc(input));
        SlabProducerStateTable table = new SlabProducerStateTable(1000, Long.MAX_VALUE / 4);
        ProducerSnapshotFile.Loaded loaded;
        try {
            loaded = ProducerSnapshotFile.load(file, table);
        } catch (IOException refused) {
            return;
        } finally {
            Files.deleteIfExists(file);
        }
        Path again = ProducerSnapshotFile.write(dir(), 200L, loaded.maxProducerId(), table);
        SlabProducerStateTable reloaded = new SlabProducerStateTable(1000, Long.MAX_VALUE / 4);
        assertEquals(loaded.maxProducerId(), ProducerSnapshotFile.load(again, reloaded).maxProducerId());
        Files.delete(again);
        assertEquals(ProducerStateTableContract.dump(table), ProducerStateTableContract.dump(reloaded));
    }
}
