package io.idemlog.server.log;

import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compressed batches of every codec are appended, deduplicated and stored exactly as produced (only baseOffset and
 * partitionLeaderEpoch patched, both outside the CRC), and a restart recovers them.
 */
class CompressedAppendTest {
    private static final Compression[] CODECS = {Compression.GZIP, Compression.SNAPPY, Compression.LZ4,
        Compression.ZSTD};

    @TempDir
    Path dir;
    LogFixture log;

    @BeforeEach
    void setUp() throws IOException {
        log = new LogFixture(dir, new TestConfig());
    }

    @AfterEach
    void tearDown() throws IOException {
        log.close();
    }

    @Test
    void everyCodecIsAppendedDeduplicatedAndStoredAsProduced() throws IOException {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        int sequence = 0;
        long offset = 0;
        for (Compression codec : CODECS) {
            ByteBuffer batch = Batches.compressed(codec, 11L, 0, sequence, 200);
            byte[] produced = Batches.bytes(batch);
            AppendResult r = log.appendDurable(Batches.copy(batch));
            assertEquals(offset, r.baseOffset(), codec.toString());
            assertEquals(offset + 199, r.lastOffset());
            // a retry of the same bytes is answered as a duplicate with the first answer's offsets
            AppendResult again = log.append(Batches.copy(batch));
            assertTrue(again.duplicate(), codec + ": " + again);
            assertEquals(offset, again.baseOffset());
            ByteBuffer stored = ByteBuffer.wrap(produced);
            stored.putLong(RecordBatch.BASE_OFFSET_OFFSET, offset);
            stored.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, 0);
            expected.write(produced);
            sequence += 200;
            offset += 200;
        }
        // a raw-snappy batch, as librdkafka writes snappy
        ByteBuffer plain = Batches.withValueSize(11L, 0, sequence, 50, 1_000L, 40);
        ByteBuffer raw = Batches.withPayload(plain, Compression.SNAPPY.id, 50, Batches.rawSnappy(Batches.inner(plain)));
        byte[] rawBytes = Batches.bytes(raw);
        assertEquals(offset, log.appendDurable(raw).baseOffset());
        ByteBuffer.wrap(rawBytes).putLong(RecordBatch.BASE_OFFSET_OFFSET, offset)
            .putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, 0);
        expected.write(rawBytes);

        byte[] file = Files.readAllBytes(LogFiles.logFile(log.partitionDir(), 0));
        byte[] want = expected.toByteArray();
        assertTrue(file.length >= want.length);
        byte[] head = new byte[want.length];
        System.arraycopy(file, 0, head, 0, want.length);
        assertArrayEquals(want, head, "the segment holds the produced bytes, compressed as they came");
        for (int p = 0, i = 0; i < CODECS.length; i++) {
            RecordBatch b = new RecordBatch(ByteBuffer.wrap(file), p);
            assertEquals(CODECS[i].id, b.compression());
            p += b.sizeInBytes();
        }
        ServedBatches.assertOnlyValidBatches(log.partition());

        log.crashAndReopen();
        assertEquals(offset + 50, log.partition().logEndOffset(), "recovery keeps every compressed batch");
        ServedBatches.assertOnlyValidBatches(log.partition());
        // the producer state survived too: the last batch again is a duplicate
        ByteBuffer retry = Batches.withPayload(plain, Compression.SNAPPY.id, 50,
            Batches.rawSnappy(Batches.inner(plain)));
        assertTrue(log.append(retry).duplicate());
    }
}
