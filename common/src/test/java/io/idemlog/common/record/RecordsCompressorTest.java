package io.idemlog.common.record;

import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RecordsCompressor}: for every codec and level kind, the compressed batch is read back by kafka-clients'
 * own MemoryRecords (the oracle: what a Kafka consumer and broker accept), and by the server's
 * {@link CompressedRecords}; incompressible data stays valid either way.
 */
class RecordsCompressorTest {
    private static final Compression[] CODECS = {Compression.GZIP, Compression.SNAPPY, Compression.LZ4,
        Compression.ZSTD};

    private static int build(ByteBuffer buf, List<byte[]> values) {
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < values.size(); i++) {
            Header[] headers = i % 4 == 0 ? new Header[] {new Header("h", ("v" + i).getBytes())} : null;
            if (!b.tryAppend(1_000L + i, i % 3 == 0 ? null : ("k" + i).getBytes(), values.get(i), headers)) {
                return -1;
            }
        }
        return b.close();
    }

    private static List<byte[]> text(int n) {
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            values.add(("{\"seq\":" + i + ",\"user\":\"user-" + (i % 37) + "\",\"event\":\"click\",\"path\":\"/a/b/"
                + (i % 100) + "\"}").getBytes(StandardCharsets.UTF_8));
        }
        return values;
    }

    private static List<byte[]> random(int n, int size) {
        Random r = new Random(1);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] v = new byte[size];
            r.nextBytes(v);
            values.add(v);
        }
        return values;
    }

    private static void assertKafkaReadsBack(ByteBuffer batch, int size, List<byte[]> values, int codec) {
        byte[] bytes = new byte[size];
        batch.get(0, bytes);
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(bytes));
        int i = 0;
        for (org.apache.kafka.common.record.RecordBatch b : records.batches()) {
            assertEquals(codec, b.compressionType().id, "codec bits");
            b.ensureValid();
            for (Record r : b) {
                assertEquals(i, r.offset());
                byte[] v = new byte[r.valueSize()];
                r.value().get(v);
                assertEquals(new String(values.get(i), StandardCharsets.ISO_8859_1),
                    new String(v, StandardCharsets.ISO_8859_1), "record " + i);
                i++;
            }
        }
        assertEquals(values.size(), i);
    }

    @Test
    void kafkaClientsAndTheServerReadBackEveryCodecAtEveryLevelKind() {
        RecordsCompressor compressor = new RecordsCompressor();
        CompressedRecords validator = new CompressedRecords();
        List<byte[]> values = text(2_000);
        int[][] levels = {{-1, 1, 9}, {0}, {1, 9, 17}, {-5, 3, 19}};
        for (boolean direct : new boolean[] {true, false}) {
            for (int c = 0; c < CODECS.length; c++) {
                for (int level : levels[c]) {
                    ByteBuffer buf = direct ? ByteBuffer.allocateDirect(256 * 1024) : ByteBuffer.allocate(256 * 1024);
                    int plain = build(buf, values);
                    int size = compressor.compressInPlace(buf, plain, CODECS[c], level);
                    String what = CODECS[c] + " level " + level + (direct ? " direct" : " heap");
                    assertTrue(size < plain / 2, what + ": " + size + " of " + plain);
                    RecordBatch batch = new RecordBatch(buf, 0);
                    assertEquals(RecordBatch.Validation.VALID, batch.validate(size, Integer.MAX_VALUE), what);
                    assertEquals(CompressedRecords.Result.VALID, validator.validate(batch, 1L << 24),
                        what + ": " + validator.reason());
                    assertKafkaReadsBack(buf, size, values, CODECS[c].id);
                }
            }
        }
    }

    @Test
    void incompressibleRecordsStayReadableCompressedOrNot() {
        RecordsCompressor compressor = new RecordsCompressor();
        List<byte[]> values = random(60, 1_000);
        for (Compression codec : CODECS) {
            ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
            int plain = build(buf, values);
            int size = compressor.compressInPlace(buf, plain, codec, codec == Compression.LZ4 ? 9 : 3);
            int used = new RecordBatch(buf, 0).compression();
            assertTrue(used == 0 || used == codec.id);
            assertTrue(size <= buf.capacity());
            assertKafkaReadsBack(buf, size, values, used);
        }
    }
}
