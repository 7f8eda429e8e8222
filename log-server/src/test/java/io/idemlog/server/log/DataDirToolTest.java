package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.ProducerIdAllocator;
import io.idemlog.server.state.ProducerSnapshotFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The offline verifier ({@link DataDirTool}) on a data directory written by the store (several sealed segments,
 * indexes, snapshots, producer-ids): clean gives exit 0; each kind of damage gives exit 1 and a DAMAGE line naming
 * the file (and the byte where there is one); bad arguments give 2. Dump prints batches, records and producer state.
 */
class DataDirToolTest {
    @TempDir
    Path dir;
    Path partition;
    String out;

    /** meta.properties is the server's (io.idemlog.server); here a stand-in that refuses a file starting with '!'. */
    static String meta(Path file) throws IOException {
        if (Files.readAllBytes(file)[0] == '!') {
            throw new CorruptFileException(file, 0, "garbled");
        }
        return "ok";
    }

    @BeforeEach
    void fill() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 4000;
        config.indexIntervalBytes = 200;
        try (LogFixture log = new LogFixture(dir, config)) {
            for (int i = 0; i < 80; i++) {
                log.appendOk(Batches.withValueSize(7L, 0, 2 * i, 2, 1000L + i, 30));
            }
            log.store.flushOnce();
            log.store.nextProducerId();
        }
        Files.writeString(dir.resolve("meta.properties"), "cluster.id=x\nnode.id=0\nversion=1\n");
        partition = dir.resolve("topics").resolve(LogFixture.TOPIC + "-0");
    }

    private int run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int code = DataDirTool.run(args, print, print, DataDirToolTest::meta);
        out = bytes.toString(StandardCharsets.UTF_8);
        return code;
    }

    private Path segment(int i) throws IOException {
        try (var s = Files.list(partition)) {
            return s.filter(p -> p.toString().endsWith(".log")).sorted().toList().get(i);
        }
    }

    private static void flip(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
            ch.write(b, position);
        }
    }

    /** Position of the 5th batch of a segment. */
    private static long fifthBatch(Path segment) throws IOException {
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
            long p = 0;
            ByteBuffer h = ByteBuffer.allocate(12);
            for (int i = 0; i < 4; i++) {
                h.clear();
                ch.read(h, p);
                p += 12 + h.getInt(8);
            }
            return p;
        }
    }

    @Test
    void aCleanDirectoryVerifies() {
        assertEquals(0, run("verify", dir.toString()), out);
        assertTrue(out.contains("OK: "), out);
        assertTrue(!out.contains("DAMAGE"), out);
    }

    @Test
    void dumpPrintsBatchesRecordsAndProducerState() throws IOException {
        assertEquals(0, run("dump", dir.toString(), "--partition", LogFixture.TOPIC + "-0", "--records"), out);
        assertTrue(out.contains("baseOffset: 0 lastOffset: 1 count: 2 position: 0"), out);
        assertTrue(out.contains("producerId: 7 producerEpoch: 0 baseSequence: 0 lastSequence: 1"), out);
        assertTrue(out.contains("| offset: 1 timestamp: 1001"), out);
        assertTrue(out.contains("key: k1 value: 0x7631000000"), out);
        assertTrue(out.contains("snapshot 00000000000000000160.snapshot: state at offset 160, 1 producers"), out);
        assertTrue(out.contains("sequences 158-159 at offsets 158-159"), out);
        assertTrue(out.contains("producer-ids: next id 1000"), out);
        assertTrue(out.contains("entries checked"), out);
    }

    @Test
    void theLogStartOffsetFileIsCheckedAndADamagedOneIsDamage() throws IOException {
        io.idemlog.server.state.LogStartOffsetFile.write(partition, 5L);
        assertEquals(0, run("dump", dir.toString(), "--partition", LogFixture.TOPIC + "-0"), out);
        assertTrue(out.contains("log start offset (DeleteRecords) 5"), out);
        Path file = io.idemlog.server.state.LogStartOffsetFile.path(partition);
        io.idemlog.server.state.LogStartOffsetFile.write(partition, 1_000_000L);
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + file + " at byte 8: log start offset 1000000 is above the log end"), out);
        Files.write(file, new byte[20]);
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + file + " at byte 0: bad magic 0"), out);
    }

    @Test
    void theLeaderEpochFileIsCheckedAndADamagedOneIsDamage() throws IOException {
        Path file = io.idemlog.server.state.LeaderEpochFile.path(partition);
        assertTrue(Files.exists(file), "written by the first append");
        assertEquals(0, run("dump", dir.toString(), "--partition", LogFixture.TOPIC + "-0"), out);
        assertTrue(out.contains("leader epochs (epoch@first offset) [0@0]"), out);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1;
        Files.write(file, bytes);
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + file + " at byte " + (bytes.length - 4) + ": CRC mismatch"), out);
    }

    @Test
    void aFlippedByteInASealedSegmentIsDamage() throws IOException {
        Path seg = segment(0);
        long at = fifthBatch(seg);
        flip(seg, at + RecordBatch.RECORDS_OFFSET + 2);
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + seg + " at byte " + at + ": CRC mismatch"), out);
    }

    @Test
    void aFlippedBaseOffsetIsDamage() throws IOException {
        Path seg = segment(1);
        long at = fifthBatch(seg);
        flip(seg, at + RecordBatch.BASE_OFFSET_OFFSET + 7);
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + seg + " at byte " + at + ": base offset"), out);
    }

    @Test
    void aTruncatedSealedSegmentIsDamageAndSoIsTheGapAfterIt() throws IOException {
        Path seg = segment(0);
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 10);
        }
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + seg + " at byte "), out);
        assertTrue(out.contains("incomplete batch"), out);
        assertTrue(out.contains("offsets are missing or overlap"), out);
    }

    @Test
    void zerosAfterTheLastBatchAreANoteNotDamage() throws IOException {
        Path last;
        try (var s = Files.list(partition)) {
            last = s.filter(p -> p.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
        }
        Files.write(last, new byte[4096], StandardOpenOption.APPEND);
        assertEquals(0, run("verify", dir.toString()), out);
        assertTrue(out.contains("NOTE " + last + ": 4096 zero bytes after the last batch"), out);
    }

    @Test
    void anIndexEntryPointingInsideABatchIsDamage() throws IOException {
        Path index = LogFiles.indexFile(partition, 0L);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(index));
        int at = 2 * SegmentIndex.ENTRY_SIZE + SegmentIndex.POSITION_OFFSET;
        b.putInt(at, b.getInt(at) + 7);
        Files.write(index, b.array());
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + index + " at byte 32: entry 2"), out);
        assertTrue(out.contains("inside the batch"), out);
    }

    @Test
    void aMissingSealedIndexIsDamage() throws IOException {
        Path index = LogFiles.indexFile(partition, 0L);
        Files.delete(index);
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + index + ": missing for a sealed segment"), out);
    }

    @Test
    void aGarbledSnapshotIsDamage() throws IOException {
        Path snapshot = ProducerSnapshotFile.path(partition, 160L);
        flip(snapshot, 30);
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + snapshot), out);
        assertTrue(out.contains("CRC mismatch"), out);
    }

    @Test
    void aMissingProducerIdsFileWithIdsInTheLogsIsDamage() throws IOException {
        Files.delete(dir.resolve(ProducerIdAllocator.FILE_NAME));
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + dir.resolve(ProducerIdAllocator.FILE_NAME) + ": missing, but producer id 7"),
            out);
    }

    @Test
    void aProducerIdsFileBelowTheLogsIsDamage() throws IOException {
        Files.delete(dir.resolve(ProducerIdAllocator.FILE_NAME));
        ProducerIdAllocator.open(dir, 1).nextProducerId(); // a file saying ids from 1 on are free
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("says ids from 1 on are unused, but producer id 7"), out);
    }

    @Test
    void aGarbledProducerIdsFileIsDamage() throws IOException {
        flip(dir.resolve(ProducerIdAllocator.FILE_NAME), 9);
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + dir.resolve(ProducerIdAllocator.FILE_NAME)), out);
    }

    @Test
    void aGarbledMetaFileIsDamage() throws IOException {
        Files.writeString(dir.resolve("meta.properties"), "!garbage");
        assertEquals(1, run("verify", dir.toString()), out);
        assertTrue(out.contains("DAMAGE " + dir.resolve("meta.properties") + " at byte 0: garbled"), out);
    }

    @Test
    void badArgumentsAreAUsageError() {
        assertEquals(2, run("verify"), out);
        assertEquals(2, run("verify", dir.resolve("nope").toString()), out);
        assertEquals(2, run("verify", dir.resolve("topics").toString()), out); // a directory, not a data directory
        assertTrue(out.contains("is not a data directory"), out);
        assertEquals(2, run("dump", dir.toString(), "--partition", "nope-0"), out);
        assertEquals(2, run("verify", dir.toString(), "--bogus"), out);
        assertTrue(out.contains("usage:"), out);
    }
}
