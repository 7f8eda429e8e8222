package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.CompressedRecords;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordReader;
import io.idemlog.server.state.KeyWindow;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.idemlog.server.log.DedupAppendTest.batch;
import static io.idemlog.server.log.DedupAppendTest.bytes;
import static io.idemlog.server.log.DedupAppendTest.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * De-duplication keys on compressed batches (issue 11), per codec: a batch without repeats is stored exactly as sent
 * (its compressed bytes), one with repeats is rebuilt with holes and compressed again with its codec, one of only
 * repeats becomes an empty (uncompressed) batch keeping the producer's sequence range; repeats of keys first stored
 * compressed or uncompressed, a hash collision, the window rebuilt from compressed batches after a crash, malformed
 * compressed records refused. Controls: the same appends with de-duplication off store every record.
 */
class DedupCompressedTest {
    @TempDir
    Path dir;

    /** {@link DedupAppendTest#batch} with its records compressed by the codec library (as a producer does). */
    static ByteBuffer compressed(Compression codec, long producerId, int epoch, int baseSequence, String... keys) {
        ByteBuffer plain = batch(producerId, epoch, baseSequence, keys);
        return Batches.withPayload(plain, codec.id, keys.length, Batches.compress(codec, Batches.inner(plain)));
    }

    /** A stored batch: its header fields, its raw bytes, and its records read after decompression. */
    record Stored(long baseOffset, long lastOffset, int count, int codec, long producerId, int baseSequence,
                  byte[] raw, List<Long> offsets, List<String> values) {
    }

    static List<Stored> stored(PartitionLog p) throws IOException {
        List<Stored> out = new ArrayList<>();
        CompressedRecords inflater = new CompressedRecords();
        for (LogSegment s : p.segments()) {
            ByteBuffer file = ByteBuffer.allocate(s.size());
            try (FileChannel ch = FileChannel.open(s.path(), StandardOpenOption.READ)) {
                while (file.hasRemaining() && ch.read(file, file.position()) >= 0) {
                    // read all
                }
            }
            int pos = 0;
            RecordBatch b = new RecordBatch();
            RecordReader reader = new RecordReader();
            while (pos < s.size()) {
                b.wrap(file, pos);
                assertEquals(RecordBatch.Validation.VALID, b.validateStored(s.size() - pos, Integer.MAX_VALUE),
                    "stored batch at byte " + pos + " (CRC, count)");
                byte[] raw = new byte[b.sizeInBytes()];
                file.get(pos, raw);
                ByteBuffer records = file;
                int at = pos;
                if (b.compression() != 0) {
                    assertEquals(CompressedRecords.Result.VALID, inflater.inflate(b, Integer.MAX_VALUE),
                        inflater.reason());
                    records = ByteBuffer.allocate(inflater.inflatedSize());
                    records.put(0, inflater.inflated(), 0, inflater.inflatedSize());
                    at = 0;
                }
                List<Long> offsets = new ArrayList<>();
                List<String> values = new ArrayList<>();
                reader.wrap(records, at);
                while (reader.next()) {
                    offsets.add(reader.offset);
                    values.add(new String(reader.value(), StandardCharsets.UTF_8));
                }
                assertEquals(b.recordsCount(), offsets.size(), "recordsCount = the records in the batch");
                out.add(new Stored(b.baseOffset(), b.lastOffset(), b.recordsCount(), b.compression(), b.producerId(),
                    b.baseSequence(), raw, offsets, values));
                pos += b.sizeInBytes();
            }
        }
        return out;
    }

    /** The CRC-covered part of a batch (attributes on) with its CRC: what the server must not change. */
    static byte[] fromCrc(byte[] batch) {
        return Arrays.copyOfRange(batch, RecordBatch.CRC_OFFSET, batch.length);
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void aBatchWithoutRepeatsIsStoredAsSentItsCompressedBytesUnchanged(Compression codec) throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(compressed(codec, 1, 0, 0, "a", "b", "c"));
            ByteBuffer second = compressed(codec, 2, 0, 0, "d", null, "e");
            byte[] sent = Batches.bytes(second);
            AppendResult r = log.appendOk(second);
            assertNull(r.repeats());
            List<Stored> batches = stored(log.partition());
            assertEquals(2, batches.size());
            Stored b = batches.get(1);
            assertArrayEquals(fromCrc(sent), fromCrc(b.raw()), "attributes, records and CRC exactly as sent");
            assertEquals(codec.id, b.codec());
            assertEquals(List.of(3L, 4L, 5L), b.offsets());
            assertEquals(5, log.partition().dedupKeys(), "the compressed batches' keys entered the window");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void aBatchWithRepeatsIsRebuiltWithHolesAndCompressedAgainWithItsCodec(Compression codec) throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(compressed(codec, 1, 0, 0, "a", "b", "c"));
            AppendResult r = log.appendOk(compressed(codec, 2, 0, 0, "b", "d", "a", "e", "d"));
            assertEquals(3, r.baseOffset());
            assertEquals(7, r.lastOffset());
            assertArrayEquals(new long[] {0, 1, 2, 0, 4, 4}, r.repeats(),
                "b and a repeat the first batch, the second d repeats the first d of the same batch");
            Stored b = stored(log.partition()).get(1);
            assertEquals(3, b.baseOffset());
            assertEquals(7, b.lastOffset(), "lastOffsetDelta kept");
            assertEquals(2, b.count());
            assertEquals(codec.id, b.codec(), "compressed again with the batch's own codec");
            assertEquals(List.of(4L, 6L), b.offsets(), "the survivors keep their offset deltas");
            assertEquals(List.of("v-d-1", "v-e-3"), b.values());
            assertEquals(2, b.producerId());
            assertEquals(0, b.baseSequence());
            assertEquals(8, log.partition().logEndOffset());
            assertEquals(3, log.partition().dedupRepeats());
            // The rebuilt batch's survivors are in the window: a repeat of them is dropped too.
            assertEquals(1, log.appendOk(compressed(codec, 3, 0, 0, "e")).repeatCount());
        }
    }

    @org.junit.jupiter.api.Test
    void aRawSnappyBatchWithRepeatsAsLibrdkafkaWritesItIsRebuiltInKafkaClientsFraming() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            ByteBuffer first = batch(1, 0, 0, "a", "b");
            log.appendOk(Batches.withPayload(first, Compression.SNAPPY.id, 2, Batches.rawSnappy(Batches.inner(first))));
            ByteBuffer second = batch(2, 0, 0, "c", "a");
            AppendResult r = log.appendOk(Batches.withPayload(second, Compression.SNAPPY.id, 2,
                Batches.rawSnappy(Batches.inner(second))));
            assertArrayEquals(new long[] {1, 0}, r.repeats());
            Stored b = stored(log.partition()).get(1);
            assertEquals(Compression.SNAPPY.id, b.codec());
            assertEquals(List.of(2L), b.offsets());
            assertEquals((byte) 0x82, b.raw()[RecordBatch.RECORDS_OFFSET], "xerial framing (kafka-clients' snappy)");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void controlWithDedupOffEveryCompressedRecordIsStored(Compression codec) throws IOException {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            log.appendOk(compressed(codec, 1, 0, 0, "a", "b", "c"));
            AppendResult r = log.appendOk(compressed(codec, 2, 0, 0, "b", "d", "a", "e", "d"));
            assertNull(r.repeats());
            assertEquals(List.of(3L, 4L, 5L, 6L, 7L), stored(log.partition()).get(1).offsets());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void aCompressedBatchOfOnlyRepeatsIsStoredEmptyAndKeepsTheSequenceRange(Compression codec) throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(compressed(codec, 1, 0, 0, "a", "b"));
            ByteBuffer repeat = compressed(codec, 2, 0, 0, "a", "b");
            ByteBuffer retry = Batches.copy(repeat);
            AppendResult r = log.appendOk(repeat);
            assertEquals(2, r.baseOffset());
            assertEquals(3, r.lastOffset());
            assertArrayEquals(new long[] {0, 0, 1, 1}, r.repeats());
            Stored empty = stored(log.partition()).get(1);
            assertEquals(0, empty.count());
            assertEquals(0, empty.codec(), "an empty batch has nothing to decompress: codec bits cleared");
            assertEquals(RecordBatch.RECORDS_OFFSET, empty.raw().length, "a bare header");
            assertEquals(2, empty.baseOffset());
            assertEquals(3, empty.lastOffset());
            assertEquals(2, empty.producerId());
            assertEquals(0, empty.baseSequence());
            AppendResult dup = log.append(retry);
            assertTrue(dup.duplicate(), "a same-session retry is still a classic duplicate");
            assertEquals(2, dup.baseOffset());
            assertEquals(4, log.appendOk(compressed(codec, 2, 0, 2, "c")).baseOffset(), "the sequence continues");
            assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, log.append(compressed(codec, 2, 0, 5, "d")).error());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void repeatsOfKeysStoredUncompressedAndOfKeysStoredCompressed(Compression codec) throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(batch(-1, -1, -1, "plain"));                      // offset 0, uncompressed
            log.appendOk(compressed(codec, -1, -1, -1, "z1", "z2"));          // offsets 1-2, compressed
            AppendResult a = log.appendOk(compressed(codec, -1, -1, -1, "plain", "new"));
            assertArrayEquals(new long[] {0, 0}, a.repeats(), "a compressed repeat of an uncompressed original");
            long inflationsBefore = log.partition().keyVerifier().inflations();
            AppendResult b = log.appendOk(batch(-1, -1, -1, "z2", "z1", "other"));
            assertArrayEquals(new long[] {0, 2, 1, 1}, b.repeats(),
                "an uncompressed repeat of a compressed original: confirmed against its decompressed records");
            assertEquals(inflationsBefore + 1, log.partition().keyVerifier().inflations(),
                "the compressed original was decompressed once for both repeats (the last batch read is kept)");
            AppendResult c = log.appendOk(compressed(codec, -1, -1, -1, "z1"));
            assertEquals(1, c.repeatCount(), "a compressed repeat of a compressed original");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void aHashCollisionWithACompressedOriginalDoesNotDropADistinctRecord(Compression codec) throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(compressed(codec, -1, -1, -1, "y"));
            KeyWindow keys = log.partition().keyWindow();
            byte[] x = bytes("x");
            keys.add(KeyWindow.hash(ByteBuffer.wrap(x), 0, x.length), 0L, log.clock.time());
            assertNull(log.appendOk(compressed(codec, -1, -1, -1, "x")).repeats(),
                "the compressed record at the colliding offset has another key");
            assertNull(log.appendOk(batch(-1, -1, -1, "y2")).repeats());
            assertEquals(List.of(1L), stored(log.partition()).get(1).offsets());
            assertEquals(1, log.appendOk(compressed(codec, -1, -1, -1, "x")).repeatCount(), "x itself now repeats");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void compressedHolesSurviveACrashAndTheirKeysAreReplayed(Compression codec) throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(compressed(codec, 1, 0, 0, "a", "b", "c"));
            log.appendOk(compressed(codec, 2, 0, 0, "b", "d"));
            log.appendOk(compressed(codec, 3, 0, 0, "a", "c"));
            log.store.flushOnce();
            List<String> before = describe(stored(log.partition()));
            log.crashAndReopen();
            assertEquals(before, describe(stored(log.partition())));
            assertEquals(4, log.partition().dedupKeys(), "a, b, c, d replayed from the compressed batches");
            AppendResult again = log.appendOk(compressed(codec, 4, 0, 0, "d", "e", "a"));
            assertArrayEquals(new long[] {0, 4, 2, 0}, again.repeats());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void malformedCompressedRecordsAreACorruptMessageAndNothingIsStored(Compression codec) throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            ByteBuffer plain = batch(1, 0, 0, "a", "b");
            ByteBuffer countMismatch = Batches.withPayload(plain, codec.id, 3, Batches.compress(codec,
                Batches.inner(plain)));
            AppendResult r = log.append(countMismatch);
            assertEquals(ErrorCode.CORRUPT_MESSAGE, r.error());
            byte[] inner = Batches.inner(plain);
            byte[] z = Batches.compress(codec, inner);
            ByteBuffer truncated = Batches.withPayload(plain, codec.id, 2, Arrays.copyOf(z, z.length - 3));
            assertEquals(ErrorCode.CORRUPT_MESSAGE, log.append(truncated).error());
            assertEquals(0, log.partition().logEndOffset());
            assertEquals(0, log.partition().dedupKeys());
            assertEquals(0, log.appendOk(compressed(codec, 1, 0, 0, "a", "b")).baseOffset(), "the good batch after");
        }
    }

    private static List<String> describe(List<Stored> batches) {
        List<String> out = new ArrayList<>();
        for (Stored b : batches) {
            out.add(b.baseOffset() + "-" + b.lastOffset() + " codec " + b.codec() + " " + b.offsets() + " "
                + b.values() + " " + Arrays.hashCode(b.raw()));
        }
        return out;
    }
}
