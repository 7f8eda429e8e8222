package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot path of de-duplication on a compressed batch without repeats allocates nothing per record: the check
 * outside the lock (decompress into the thread's buffer, the validating walk that finds and hashes every key) and,
 * under the lock, the key lookups, the write and entering the keys. Measured with the thread's allocated-bytes
 * counter over many appends of 500-record batches, after a warm-up (the buffers have grown to the batch's size).
 * Control: a check that allocated one object per record would show >= 16 bytes per record.
 */
class DedupCompressedAllocationTest {
    private static final int RECORDS = 500;

    @Test
    void theCompressedDedupPathAllocatesNothingPerRecord() throws Exception {
        com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        byte[] header = DedupAppendTest.HEADER.getBytes(StandardCharsets.UTF_8);
        for (Compression codec : new Compression[] {Compression.LZ4, Compression.ZSTD, Compression.GZIP,
            Compression.SNAPPY}) {
            ByteBuffer batch = batchOf(codec, 0);
            RecordBatch view = new RecordBatch(batch, 0);
            for (int i = 0; i < 2_000; i++) { // warm-up: JIT, buffers grown
                assertEquals(ErrorCode.NONE, ProduceBatchCheck.check(view, batch.limit(), 1 << 20, header));
            }
            int rounds = 2_000;
            long before = threads.getThreadAllocatedBytes(me);
            for (int i = 0; i < rounds; i++) {
                ProduceBatchCheck.check(view, batch.limit(), 1 << 20, header);
            }
            long after = threads.getThreadAllocatedBytes(me);
            double perRecord = (after - before) / (double) rounds / RECORDS;
            System.out.printf("check %s: %.3f bytes allocated per record%n", codec, perRecord);
            assertTrue(perRecord < 1, codec + ": an object per record would be >= 16 bytes; got " + perRecord
                + " bytes per record");
            assertEquals(RECORDS, CompressedBatchKeys.forThread().batch().recordsCount(), "the batch was inflated");
        }
    }

    @Test
    void appendingCompressedBatchesWithoutRepeatsAllocatesNothingPerRecord(@org.junit.jupiter.api.io.TempDir
                                                                           java.nio.file.Path dir) throws Exception {
        com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        // The window at its bound after the warm-up (evicting, no longer growing its arrays) and no segment roll
        // (a roll serialises the key snapshot, 24 bytes per key, once per segment): what is left is per batch.
        TestConfig config = DedupAppendTest.config(100_000);
        config.segmentBytes = 1L << 30;
        try (LogFixture log = new LogFixture(dir, config)) {
            AppendOutcome out = new AppendOutcome();
            int n = 0;
            ByteBuffer[] batches = new ByteBuffer[600];
            for (int i = 0; i < batches.length; i++) {
                batches[i] = batchOf(Compression.LZ4, i * RECORDS);
            }
            for (; n < 300; n++) { // warm-up
                log.partition().append(batches[n], 0, batches[n].limit(), FlushDuty.CALLER, out);
                assertEquals(ErrorCode.NONE, out.error());
            }
            long before = threads.getThreadAllocatedBytes(me);
            for (; n < batches.length; n++) {
                log.partition().append(batches[n], 0, batches[n].limit(), FlushDuty.CALLER, out);
            }
            long after = threads.getThreadAllocatedBytes(me);
            assertEquals(ErrorCode.NONE, out.error());
            assertEquals(0, log.partition().dedupRepeats());
            double perRecord = (after - before) / (double) (300 * RECORDS);
            System.out.printf("append lz4 without repeats: %.3f bytes allocated per record%n", perRecord);
            assertTrue(perRecord < 1, "an object per record would be >= 16 bytes; got " + perRecord);
        }
    }

    /** {@code RECORDS} records with unique keys from {@code firstKey}, compressed. */
    private static ByteBuffer batchOf(Compression codec, int firstKey) {
        String[] keys = new String[RECORDS];
        for (int i = 0; i < RECORDS; i++) {
            keys[i] = "key-" + (firstKey + i);
        }
        return DedupCompressedTest.compressed(codec, -1, -1, -1, keys);
    }
}
