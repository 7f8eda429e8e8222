package io.idemlog.common.record;

import com.github.luben.zstd.Zstd;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;
import org.xerial.snappy.Snappy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CompressedRecords}: batches compressed by kafka-clients (the oracle: what Kafka's producer writes), by the
 * codec libraries the way librdkafka frames them (raw snappy, LZ4F frames with checksums, single-segment zstd,
 * multi-member gzip), and broken ones: wrong record count, offset deltas, framing, trailing bytes, a truncated or
 * garbled stream, a "zip bomb", an undefined codec id.
 */
class CompressedRecordsTest {
    private static final Compression[] CODECS = {Compression.GZIP, Compression.SNAPPY, Compression.LZ4,
        Compression.ZSTD};
    private static final long LIMIT = 16L << 20;

    private final CompressedRecords validator = new CompressedRecords();

    /** Text-like records: a few hundred KiB in all, so the inner bytes span several 64 KiB chunks and lz4 blocks. */
    private static SimpleRecord[] textRecords(int n) {
        SimpleRecord[] records = new SimpleRecord[n];
        for (int i = 0; i < n; i++) {
            String value = "{\"id\":" + i + ",\"user\":\"user-" + (i % 97) + "\",\"event\":\"page_view\",\"path\":"
                + "\"/catalog/item/" + (i * 31 % 1000) + "\",\"note\":\"" + "lorem ipsum dolor ".repeat(i % 7) + "\"}";
            byte[] key = i % 5 == 0 ? null : ("key-" + i).getBytes(StandardCharsets.UTF_8);
            records[i] = i % 3 == 0
                ? new SimpleRecord(1_000L + i, key, value.getBytes(StandardCharsets.UTF_8),
                    new RecordHeader[] {new RecordHeader("trace", ("t-" + i).getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader("empty", null)})
                : new SimpleRecord(1_000L + i, key, value.getBytes(StandardCharsets.UTF_8));
        }
        return records;
    }

    private static org.apache.kafka.common.compress.Compression kafka(Compression c) {
        return switch (c) {
            case GZIP -> org.apache.kafka.common.compress.Compression.gzip().build();
            case SNAPPY -> org.apache.kafka.common.compress.Compression.snappy().build();
            case LZ4 -> org.apache.kafka.common.compress.Compression.lz4().build();
            case ZSTD -> org.apache.kafka.common.compress.Compression.zstd().build();
            default -> org.apache.kafka.common.compress.Compression.NONE;
        };
    }

    private static ByteBuffer kafkaBatch(Compression c, SimpleRecord... records) {
        MemoryRecords m = MemoryRecords.withIdempotentRecords(kafka(c), 7L, (short) 0, 0, records);
        ByteBuffer b = m.buffer();
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return ByteBuffer.wrap(bytes);
    }

    private static ByteBuffer direct(ByteBuffer heap) {
        ByteBuffer d = ByteBuffer.allocateDirect(heap.remaining() + 16);
        d.position(16);
        d.put(heap.duplicate());
        return d.flip();
    }

    private CompressedRecords.Result validate(ByteBuffer buf, int offset, long limit) {
        RecordBatch batch = new RecordBatch(buf, offset);
        assertEquals(RecordBatch.Validation.VALID, batch.validate(buf.limit() - offset, Integer.MAX_VALUE));
        return validator.validate(batch, limit);
    }

    private CompressedRecords.Result validate(ByteBuffer heap, long limit) {
        CompressedRecords.Result onHeap = validate(heap, 0, limit);
        String heapReason = validator.reason();
        ByteBuffer d = direct(heap);
        CompressedRecords.Result onDirect = validate(d, 16, limit);
        assertEquals(onHeap, onDirect, "heap and direct agree (" + heapReason + " / " + validator.reason() + ")");
        return onHeap;
    }

    /** The inner (uncompressed) records section of an uncompressed batch. */
    private static byte[] inner(ByteBuffer uncompressed) {
        byte[] b = new byte[uncompressed.remaining() - RecordBatch.RECORDS_OFFSET];
        uncompressed.get(RecordBatch.RECORDS_OFFSET, b);
        return b;
    }

    /** A batch with the header of {@code template}, codec {@code c}, {@code count} records and this payload. */
    private static ByteBuffer rebuild(ByteBuffer template, int codecId, int count, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(RecordBatch.RECORDS_OFFSET + payload.length);
        b.put(0, template, 0, RecordBatch.RECORDS_OFFSET);
        b.put(RecordBatch.RECORDS_OFFSET, payload);
        b.putInt(RecordBatch.LENGTH_OFFSET, b.capacity() - RecordBatch.LOG_OVERHEAD);
        short attributes = b.getShort(RecordBatch.ATTRIBUTES_OFFSET);
        b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) ((attributes & ~RecordBatch.COMPRESSION_MASK) | codecId));
        b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, count);
        b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
        new RecordBatch(b, 0).updateCrc();
        return b;
    }

    /** Compresses the way librdkafka (or any non-Kafka-Java writer) frames each codec. */
    static byte[] compress(Compression c, byte[] data) throws IOException {
        switch (c) {
            case GZIP: {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                // two members, as gzip -c a b would write: readers must take both
                int half = data.length / 2;
                try (OutputStream z = new GZIPOutputStream(out)) {
                    z.write(data, 0, half);
                }
                try (OutputStream z = new GZIPOutputStream(out)) {
                    z.write(data, half, data.length - half);
                }
                return out.toByteArray();
            }
            case SNAPPY:
                return Snappy.compress(data); // raw, as librdkafka writes
            case LZ4: {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (OutputStream z = new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB,
                    LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.BLOCK_CHECKSUM,
                    LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM)) {
                    z.write(data);
                }
                return out.toByteArray();
            }
            case ZSTD:
                return Zstd.compress(data, 3); // one single-segment frame, as librdkafka writes
            default:
                return data;
        }
    }

    private static ByteBuffer uncompressed(SimpleRecord... records) {
        return kafkaBatch(Compression.NONE, records);
    }

    @Test
    void acceptsWhatKafkaClientsWritesForEveryCodec() {
        for (Compression c : CODECS) {
            ByteBuffer batch = kafkaBatch(c, textRecords(3_000));
            assertEquals(c.id, new RecordBatch(batch, 0).compression());
            assertEquals(CompressedRecords.Result.VALID, validate(batch, LIMIT), c + ": " + validator.reason());
            ByteBuffer one = kafkaBatch(c, new SimpleRecord(5L, (byte[]) null, (byte[]) null));
            assertEquals(CompressedRecords.Result.VALID, validate(one, LIMIT), c + " one empty record: "
                + validator.reason());
        }
    }

    @Test
    void acceptsTheOtherFramingsOfEachCodec() throws IOException {
        ByteBuffer plain = uncompressed(textRecords(2_000));
        byte[] inner = inner(plain);
        for (Compression c : CODECS) {
            ByteBuffer batch = rebuild(plain, c.id, 2_000, compress(c, inner));
            assertEquals(CompressedRecords.Result.VALID, validate(batch, LIMIT), c + ": " + validator.reason());
        }
    }

    @Test
    void refusesWrongCountsDeltasFramingAndTrailingBytes() throws IOException {
        ByteBuffer plain = uncompressed(textRecords(50));
        byte[] inner = inner(plain);
        ByteBuffer other = uncompressed(textRecords(51));
        byte[] innerOf51 = inner(other);
        // record 0 of a batch whose first record is re-numbered: offset delta 1 where 0 is due
        byte[] badDelta = inner.clone();
        int lengthBytes = 1; // records here are < 64 bytes... find the delta byte by walking the first record
        Varints.Cursor cur = new Varints.Cursor().wrap(ByteBuffer.wrap(badDelta), 0, badDelta.length);
        cur.varint();
        lengthBytes = cur.next;
        cur.wrap(ByteBuffer.wrap(badDelta), lengthBytes + 1, badDelta.length);
        cur.varlong();
        assertEquals(0, badDelta[cur.next]);
        badDelta[cur.next] = 2; // zigzag 1
        byte[] trailing = Arrays.copyOf(inner, inner.length + 3);
        byte[] truncated = Arrays.copyOf(inner, inner.length - 2);
        byte[] badLength = inner.clone();
        badLength[0] = (byte) (badLength[0] + 2); // first record announces one byte more than its fields
        for (Compression c : CODECS) {
            assertEquals(CompressedRecords.Result.VALID, validate(rebuild(plain, c.id, 50, compress(c, inner)),
                LIMIT), c + " control: " + validator.reason());
            assertCorrupt(c, "count above the records", rebuild(plain, c.id, 51, compress(c, inner)));
            assertCorrupt(c, "count below the records", rebuild(plain, c.id, 50, compress(c, innerOf51)));
            assertCorrupt(c, "offset delta", rebuild(plain, c.id, 50, compress(c, badDelta)));
            assertCorrupt(c, "trailing bytes", rebuild(plain, c.id, 50, compress(c, trailing)));
            assertCorrupt(c, "truncated record", rebuild(plain, c.id, 50, compress(c, truncated)));
            assertCorrupt(c, "record length", rebuild(plain, c.id, 50, compress(c, badLength)));
        }
    }

    private void assertCorrupt(Compression c, String what, ByteBuffer batch) {
        assertEquals(CompressedRecords.Result.CORRUPT, validate(batch, LIMIT), c + " " + what);
        assertTrue(validator.reason() != null && validator.reason().startsWith(c.kafkaName), validator.reason());
    }

    @Test
    void refusesTruncatedAndGarbledStreams() throws IOException {
        ByteBuffer plain = uncompressed(textRecords(500));
        byte[] inner = inner(plain);
        Random random = new Random(42);
        for (Compression c : CODECS) {
            byte[] z = compress(c, inner);
            for (int cut : new int[] {1, 4, 9, z.length / 2, z.length - 1}) {
                assertCorrupt(c, "cut " + cut, rebuild(plain, c.id, 500, Arrays.copyOf(z, z.length - cut)));
            }
            byte[] garbage = new byte[z.length];
            random.nextBytes(garbage);
            assertCorrupt(c, "random bytes", rebuild(plain, c.id, 500, garbage));
            assertCorrupt(c, "nothing", rebuild(plain, c.id, 500, new byte[0]));
        }
    }

    @Test
    void neverThrowsOnMutatedStreams() throws IOException {
        ByteBuffer plain = uncompressed(textRecords(200));
        byte[] inner = inner(plain);
        Random random = new Random(7);
        int corrupt = 0;
        for (Compression c : CODECS) {
            byte[] z = compress(c, inner);
            for (int round = 0; round < 300; round++) {
                byte[] m = z.clone();
                for (int k = 0; k < 1 + random.nextInt(4); k++) {
                    m[random.nextInt(m.length)] ^= (byte) (1 + random.nextInt(255));
                }
                CompressedRecords.Result r = validate(rebuild(plain, c.id, 200, m), LIMIT);
                if (r != CompressedRecords.Result.VALID) {
                    corrupt++;
                }
            }
        }
        assertTrue(corrupt > 300, "most mutations are caught: " + corrupt + " of 1200");
    }

    @Test
    void stopsAZipBombAtTheLimit() throws IOException {
        // one record whose value is 64 MiB of zeros: a few KiB compressed
        int size = 64 << 20;
        ByteBuffer h = ByteBuffer.allocate(16);
        int i = 1; // attributes 0
        i = Varints.putVarlong(h, i, 0L); // timestamp delta
        i = Varints.putVarint(h, i, 0); // offset delta
        i = Varints.putVarint(h, i, -1); // no key
        i = Varints.putVarint(h, i, size); // value length
        int body = i + size + 1; // ... the value, then 0 headers
        ByteBuffer inner = ByteBuffer.allocate(Varints.sizeOfVarint(body) + body);
        int at = Varints.putVarint(inner, 0, body);
        inner.put(at, h, 0, i);
        inner.put(inner.capacity() - 1, (byte) 0);
        ByteBuffer template = uncompressed(new SimpleRecord(1L, (byte[]) null, (byte[]) null));
        long limit = 1 << 20;
        for (Compression c : CODECS) {
            byte[] z = compress(c, inner.array());
            assertTrue(z.length < size / 20, c + " compresses the bomb: " + z.length);
            ByteBuffer bomb = rebuild(template, c.id, 1, z);
            assertEquals(CompressedRecords.Result.TOO_LARGE, validate(bomb, limit), c + ": " + validator.reason());
            assertEquals(CompressedRecords.Result.VALID, validate(bomb, size + 1024L), c + " within a large limit: "
                + validator.reason());
        }
    }

    @Test
    void answersUnsupportedForUndefinedCodecIds() {
        ByteBuffer plain = uncompressed(textRecords(3));
        for (int id = 5; id <= 7; id++) {
            assertEquals(CompressedRecords.Result.UNSUPPORTED, validate(rebuild(plain, id, 3, inner(plain)), LIMIT));
        }
    }
}
