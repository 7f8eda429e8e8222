package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.LeaderEpochFile;
import io.idemlog.server.state.ProducerIdAllocator;
import io.idemlog.server.state.ProducerSnapshotFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The crash and corruption suite (issue 8), in-process: a partition of 3 sealed segments and an active one, written by
 * 3 idempotent producers with ids from the store's allocator, all acknowledged (durable); then a clean close or a
 * crash (no close: the active segment keeps its preallocated zeros, no final snapshot), then one kind of damage to
 * one file, then a start. Each case must either start and serve only valid batches (each byte-identical to the
 * acknowledged batch at its offset, at offsets continuous from the log start) with every acknowledged record below
 * the damage readable, the producers' last batches still recognised as duplicates when they survived, and a new
 * producer id above every id in the logs; or refuse to start with a message naming the damaged file. Which of the two
 * is fixed per case (the "outcome" column) so that a change of behaviour shows. The end-to-end cases against a real
 * server process are in testkit's StorageDamageEndToEndTest.
 */
class StorageDamageTest {
    @TempDir
    Path dir;

    /** What the store must do with a damaged directory. */
    enum Outcome { STARTS, REFUSES }

    /** One kind of damage: what it does to which file, and what must happen. */
    enum Damage {
        TRUNCATE_ACTIVE_TAIL(Outcome.STARTS),
        FLIP_ACTIVE_RECORD(Outcome.STARTS),
        GARBAGE_AFTER_ACTIVE(Outcome.STARTS),
        FLIP_SEALED_RECORD(Outcome.STARTS),
        FLIP_SEALED_BASE_OFFSET(Outcome.STARTS),
        FLIP_SEALED_LENGTH(Outcome.STARTS),
        FLIP_SEALED_MAGIC(Outcome.STARTS),
        FLIP_SEALED_LAST_BATCH(Outcome.REFUSES),
        TRUNCATE_SEALED(Outcome.REFUSES),
        GARBLE_INDEX(Outcome.STARTS),
        MISSING_INDEX(Outcome.STARTS),
        INDEX_ENTRY_INSIDE_BATCH(Outcome.STARTS),
        GARBLE_SNAPSHOT(Outcome.STARTS),
        TRUNCATE_SNAPSHOT(Outcome.STARTS),
        MISSING_SNAPSHOTS(Outcome.STARTS),
        GARBLE_PRODUCER_IDS(Outcome.REFUSES),
        TRUNCATE_PRODUCER_IDS(Outcome.REFUSES),
        MISSING_PRODUCER_IDS(Outcome.STARTS),
        GARBLE_LEADER_EPOCHS(Outcome.REFUSES),
        TRUNCATE_LEADER_EPOCHS(Outcome.REFUSES),
        MISSING_LEADER_EPOCHS(Outcome.STARTS);

        final Outcome outcome;

        Damage(Outcome outcome) {
            this.outcome = outcome;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (Damage d : Damage.values()) {
            all.add(Arguments.of(d, false));
            all.add(Arguments.of(d, true));
        }
        return all.stream();
    }

    /** An acknowledged batch. */
    record Acked(long baseOffset, long lastOffset, long crc, long producerId, ByteBuffer sent) {
    }

    private final List<Acked> acked = new ArrayList<>();
    private final Map<Long, Acked> byOffset = new HashMap<>();
    private final long[] producerIds = new long[3];

    private static TestConfig config() {
        TestConfig config = new TestConfig();
        config.segmentBytes = 4000;
        config.indexIntervalBytes = 200;
        config.preallocate = true;
        return config;
    }

    @ParameterizedTest(name = "{0}, crash={1}")
    @MethodSource("cases")
    void startsAndServesOnlyValidBatchesOrRefusesNamingTheFile(Damage damage, boolean crash) throws IOException {
        LogFixture log = new LogFixture(dir, config());
        int[] next = new int[3];
        for (int i = 0; i < 3; i++) {
            producerIds[i] = log.store.nextProducerId();
        }
        for (int i = 0; i < 110; i++) {
            int p = i % 3;
            ByteBuffer batch = Batches.withValueSize(producerIds[p], 0, next[p], 2, 1000L + i, 30);
            ByteBuffer copy = Batches.copy(batch);
            next[p] += 2;
            AppendResult r = log.appendOk(batch);
            Acked a = new Acked(r.baseOffset(), r.lastOffset(), new RecordBatch(copy, 0).crc(), producerIds[p], copy);
            acked.add(a);
            byOffset.put(a.baseOffset(), a);
        }
        log.store.flushOnce();
        log.store.flushOnce();
        assertEquals(acked.get(acked.size() - 1).lastOffset() + 1, log.partition().highWatermark(), "all durable");
        Path partition = log.partitionDir();
        List<Path> segments = segments(partition);
        assertTrue(segments.size() >= 4, "3 sealed segments and an active one: " + segments);
        if (crash) {
            log.store.abandon();
        } else {
            log.store.close();
        }

        long intactBelow = Long.MAX_VALUE;
        Path damaged;
        Path sealed = segments.get(1);
        Path active = segments.get(segments.size() - 1);
        switch (damage) {
            case TRUNCATE_ACTIVE_TAIL -> {
                long[] lastBatch = batches(active).get(batches(active).size() - 1);
                truncate(active, lastBatch[0] + lastBatch[2] - 10);
                intactBelow = lastBatch[1];
                damaged = active;
            }
            case FLIP_ACTIVE_RECORD -> {
                long[] b = middleBatch(active);
                flip(active, b[0] + RecordBatch.RECORDS_OFFSET + 5);
                intactBelow = b[1];
                damaged = active;
            }
            case GARBAGE_AFTER_ACTIVE -> {
                long end = dataEnd(active);
                try (FileChannel ch = FileChannel.open(active, StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}), end);
                }
                damaged = active;
            }
            case FLIP_SEALED_RECORD, FLIP_SEALED_BASE_OFFSET, FLIP_SEALED_LENGTH, FLIP_SEALED_MAGIC -> {
                long[] b = batches(sealed).get(batches(sealed).size() / 3);
                int at = switch (damage) {
                    case FLIP_SEALED_RECORD -> RecordBatch.RECORDS_OFFSET + 5;
                    case FLIP_SEALED_BASE_OFFSET -> RecordBatch.BASE_OFFSET_OFFSET + 7;
                    case FLIP_SEALED_LENGTH -> RecordBatch.LENGTH_OFFSET + 3;
                    default -> RecordBatch.MAGIC_OFFSET;
                };
                flip(sealed, b[0] + at);
                intactBelow = b[1];
                damaged = sealed;
            }
            case FLIP_SEALED_LAST_BATCH -> {
                List<long[]> bs = batches(sealed);
                flip(sealed, bs.get(bs.size() - 1)[0] + RecordBatch.RECORDS_OFFSET + 5);
                damaged = sealed;
            }
            case TRUNCATE_SEALED -> {
                truncate(sealed, Files.size(sealed) - 10);
                damaged = sealed;
            }
            case GARBLE_INDEX -> {
                damaged = index(partition, sealed);
                byte[] bytes = Files.readAllBytes(damaged);
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = (byte) (bytes[i] * 31 + 7);
                }
                Files.write(damaged, bytes);
            }
            case MISSING_INDEX -> {
                damaged = index(partition, sealed);
                Files.delete(damaged);
            }
            case INDEX_ENTRY_INSIDE_BATCH -> {
                damaged = index(partition, sealed);
                ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(damaged));
                int at = (b.limit() / SegmentIndex.ENTRY_SIZE / 2) * SegmentIndex.ENTRY_SIZE
                    + SegmentIndex.POSITION_OFFSET;
                b.putInt(at, b.getInt(at) + 9);
                Files.write(damaged, b.array());
            }
            case GARBLE_SNAPSHOT, TRUNCATE_SNAPSHOT -> {
                long[] offsets = ProducerSnapshotFile.list(partition);
                damaged = ProducerSnapshotFile.path(partition, offsets[offsets.length - 1]);
                if (damage == Damage.GARBLE_SNAPSHOT) {
                    flip(damaged, Files.size(damaged) / 2);
                } else {
                    truncate(damaged, Files.size(damaged) / 2);
                }
            }
            case MISSING_SNAPSHOTS -> {
                for (long o : ProducerSnapshotFile.list(partition)) {
                    Files.delete(ProducerSnapshotFile.path(partition, o));
                }
                damaged = partition;
            }
            case GARBLE_PRODUCER_IDS -> {
                damaged = dir.resolve(ProducerIdAllocator.FILE_NAME);
                flip(damaged, 10);
            }
            case TRUNCATE_PRODUCER_IDS -> {
                damaged = dir.resolve(ProducerIdAllocator.FILE_NAME);
                truncate(damaged, 7);
            }
            case MISSING_PRODUCER_IDS -> {
                damaged = dir.resolve(ProducerIdAllocator.FILE_NAME);
                Files.delete(damaged);
            }
            case GARBLE_LEADER_EPOCHS -> {
                damaged = LeaderEpochFile.path(partition);
                flip(damaged, 14);
            }
            case TRUNCATE_LEADER_EPOCHS -> {
                damaged = LeaderEpochFile.path(partition);
                truncate(damaged, Files.size(damaged) - 3);
            }
            case MISSING_LEADER_EPOCHS -> {
                damaged = LeaderEpochFile.path(partition);
                Files.delete(damaged);
            }
            default -> throw new AssertionError(damage);
        }

        try {
            log.open();
        } catch (IOException refused) {
            assertEquals(Outcome.REFUSES, damage.outcome, "refused: " + refused);
            assertTrue(String.valueOf(refused.getMessage()).contains(damaged.getFileName().toString()),
                "the refusal names " + damaged.getFileName() + ": " + refused.getMessage());
            return;
        }
        try {
            assertEquals(Outcome.STARTS, damage.outcome, damage + " should have refused to start");
            checkServed(log.partition(), intactBelow);
            // Single node: one epoch, 0, from the log's first offset (rebuilt so when the file was deleted).
            assertEquals("[0@" + log.partition().segments()[0].baseOffset + "]",
                LeaderEpochFile.readIfExists(partition).toString(), "leader epochs after the start");
            checkDuplicatesRecognised(log, intactBelow);
            long id = log.store.nextProducerId();
            for (long used : producerIds) {
                assertTrue(id > used, "new producer id " + id + " reuses or is below " + used);
            }
        } finally {
            log.close();
        }
    }

    /**
     * Reads from the log start like a consumer until an error or the high watermark: every batch served valid,
     * byte-identical (CRC, offsets) to the acknowledged one at its offset, offsets continuous; every acknowledged
     * offset below {@code intactBelow} reached.
     */
    private void checkServed(Partition partition, long intactBelow) throws IOException {
        long offset = partition.logStartOffset();
        long hw = partition.highWatermark();
        ErrorCode stoppedBy = ErrorCode.NONE;
        for (int reads = 0; offset < hw && reads < 10_000; reads++) {
            ReadResult r = partition.read(offset, 700);
            if (r.error() != ErrorCode.NONE) {
                stoppedBy = r.error();
                break;
            }
            assertTrue(r.size() > 0, "no progress at " + offset);
            ByteBuffer bytes = ByteBuffer.allocate(r.size());
            while (bytes.hasRemaining()) {
                if (r.channel().read(bytes, r.position() + bytes.position()) < 0) {
                    fail("short segment file");
                }
            }
            int p = 0;
            while (p < bytes.limit()) {
                RecordBatch b = new RecordBatch(bytes, p);
                assertEquals(RecordBatch.Validation.VALID, b.validate(bytes.limit() - p, Integer.MAX_VALUE),
                    "batch served at offset " + offset);
                assertEquals(offset, b.baseOffset(), "offsets continuous (fetch offsets are batch starts here)");
                Acked a = byOffset.get(b.baseOffset());
                assertTrue(a != null, "served a batch at offset " + b.baseOffset() + " that was never acknowledged");
                assertEquals(a.crc(), b.crc(), "the batch at " + b.baseOffset() + " is the acknowledged one");
                assertEquals(a.lastOffset(), b.lastOffset());
                offset = b.lastOffset() + 1;
                p += b.sizeInBytes();
            }
        }
        long mustReach = Math.min(intactBelow, acked.get(acked.size() - 1).lastOffset() + 1);
        assertTrue(offset >= mustReach, "served up to " + offset + " (stopped by " + stoppedBy + "), but every "
            + "acknowledged record below " + mustReach + " must be readable");
        if (intactBelow == Long.MAX_VALUE) {
            assertEquals(ErrorCode.NONE, stoppedBy, "nothing damaged in the log: no error");
        }
    }

    /** Each producer's last batch, when it survived, sent again: a duplicate with its original offset. */
    private void checkDuplicatesRecognised(LogFixture log, long intactBelow) {
        for (long id : producerIds) {
            Acked last = null;
            for (Acked a : acked) {
                if (a.producerId() == id) {
                    last = a;
                }
            }
            if (last == null || last.lastOffset() >= intactBelow) {
                continue;
            }
            AppendResult r = log.append(Batches.copy(last.sent()));
            assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
            assertTrue(r.duplicate(), "producer " + id + "'s last batch is recognised as a duplicate");
            assertEquals(last.baseOffset(), r.baseOffset());
        }
    }

    private static List<Path> segments(Path partition) throws IOException {
        try (Stream<Path> s = Files.list(partition)) {
            return s.filter(p -> p.toString().endsWith(LogFiles.LOG_SUFFIX)).sorted().toList();
        }
    }

    private static Path index(Path partition, Path segment) {
        String name = segment.getFileName().toString();
        return partition.resolve(name.substring(0, name.length() - LogFiles.LOG_SUFFIX.length())
            + LogFiles.INDEX_SUFFIX);
    }

    /** {position, baseOffset, size} of every batch of a segment file, up to the first zero or torn header. */
    private static List<long[]> batches(Path segment) throws IOException {
        List<long[]> result = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
            long p = 0;
            long size = ch.size();
            ByteBuffer h = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
            while (p + RecordBatch.HEADER_SIZE <= size) {
                h.clear();
                ch.read(h, p);
                int length = h.getInt(RecordBatch.LENGTH_OFFSET);
                if (length <= 0 || h.get(RecordBatch.MAGIC_OFFSET) != RecordBatch.MAGIC) {
                    break;
                }
                result.add(new long[] {p, h.getLong(RecordBatch.BASE_OFFSET_OFFSET), length + 12L});
                p += length + 12L;
            }
        }
        return result;
    }

    private static long[] middleBatch(Path segment) throws IOException {
        List<long[]> bs = batches(segment);
        assertFalse(bs.size() < 3, "the active segment has a few batches");
        return bs.get(bs.size() / 2);
    }

    private static long dataEnd(Path segment) throws IOException {
        List<long[]> bs = batches(segment);
        long[] last = bs.get(bs.size() - 1);
        return last[0] + last[2];
    }

    private static void flip(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) (b.get(0) ^ 0x01)).rewind();
            ch.write(b, position);
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }
}
