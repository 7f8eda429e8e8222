package io.idemlog.server.log;

import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.common.record.RecordsCompressor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * message.timestamp.type=LogAppendTime (topic config and broker default): each appended batch is stamped with the
 * server's clock (timestamp-type bit, maxTimestamp, a valid CRC), the answer carries that time, and CreateTime topics
 * store the producer's timestamps untouched.
 */
class LogAppendTimeTest {
    private static final long PRODUCER_TIME = 1_000L;

    @TempDir
    Path dir;

    private static ByteBuffer batch(long timestamp) {
        ByteBuffer buf = ByteBuffer.allocateDirect(4096);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        builder.tryAppend(timestamp, null, new byte[20], null);
        builder.tryAppend(timestamp + 5, null, new byte[20], null);
        buf.limit(builder.close());
        return buf;
    }

    private static int batchSize(ByteBuffer buf) {
        return new RecordBatch(buf, 0).sizeInBytes();
    }

    /** The batches stored in the partition's segment files, as copies. */
    private static List<RecordBatch> stored(Path partitionDir) throws IOException {
        List<Path> segments;
        try (Stream<Path> files = Files.list(partitionDir)) {
            segments = files.filter(p -> p.toString().endsWith(".log")).sorted().toList();
        }
        List<RecordBatch> batches = new ArrayList<>();
        for (Path segment : segments) {
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(segment));
            int p = 0;
            while (p + RecordBatch.HEADER_SIZE <= bytes.limit()) {
                RecordBatch b = new RecordBatch(bytes, p);
                if (b.validate(bytes.limit() - p, Integer.MAX_VALUE) != RecordBatch.Validation.VALID) {
                    break;
                }
                batches.add(b);
                p += b.sizeInBytes();
            }
        }
        return batches;
    }

    @Test
    void aLogAppendTimeBrokerDefaultStampsEveryBatchWithTheServerClock() throws IOException {
        TestConfig config = new TestConfig();
        config.logAppendTime = true;
        try (LogFixture log = new LogFixture(dir, config)) {
            long now = log.clock.time();
            AppendResult first = log.appendDurable(batch(PRODUCER_TIME));
            assertEquals(now, first.logAppendTime(), "the answer carries the append time");
            log.clock.update(now + 1234);
            AppendResult second = log.appendDurable(batch(PRODUCER_TIME));
            assertEquals(now + 1234, second.logAppendTime());

            List<RecordBatch> batches = stored(log.partitionDir());
            assertEquals(2, batches.size());
            long[] expected = {now, now + 1234};
            for (int i = 0; i < 2; i++) {
                RecordBatch b = batches.get(i);
                assertTrue(b.isLogAppendTime(), "timestamp type bit");
                assertEquals(expected[i], b.maxTimestamp(), "max timestamp = append time");
                assertEquals(PRODUCER_TIME, b.baseTimestamp(), "the records stay as produced");
                assertTrue(b.isCrcValid(), "CRC recomputed");
            }
            // Time lookups see the append time, not the producer's.
            assertEquals(2L, log.partition().offsetForTimestamp(now + 1)[0]);
        }
    }

    @Test
    void createTimeStoresTheProducersTimestamps() throws IOException {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            AppendResult r = log.appendDurable(batch(PRODUCER_TIME));
            assertEquals(-1L, r.logAppendTime());
            RecordBatch b = stored(log.partitionDir()).get(0);
            assertFalse(b.isLogAppendTime());
            assertEquals(PRODUCER_TIME + 5, b.maxTimestamp());
        }
    }

    @Test
    void theTopicConfigDecidesAndCanBeAlteredAndCompressedBatchesAreStampedToo() throws Exception {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            log.store.createTopic("lat", 1, Map.of("message.timestamp.type", "LogAppendTime"), false);
            PartitionLog lat = log.store.partitionLog("lat", 0);
            ByteBuffer compressed = compressed(PRODUCER_TIME);
            AppendResult r = lat.append(compressed, 0, compressed.limit());
            assertEquals(log.clock.time(), r.logAppendTime(), r.errorMessage());
            log.store.flushOnce();
            RecordBatch b = stored(dir.resolve("topics").resolve("lat-0")).get(0);
            assertEquals(Compression.LZ4.id, b.compression());
            assertTrue(b.isLogAppendTime());
            assertEquals(log.clock.time(), b.maxTimestamp());
            assertTrue(b.isCrcValid());

            // The default topic is CreateTime until altered.
            assertEquals(-1L, log.appendOk(batch(PRODUCER_TIME)).logAppendTime());
            log.store.alterTopicConfig(LogFixture.TOPIC, Map.of("message.timestamp.type", "LogAppendTime"), false);
            assertEquals(log.clock.time(), log.appendOk(batch(PRODUCER_TIME)).logAppendTime());
        }
    }

    private static ByteBuffer compressed(long timestamp) {
        ByteBuffer buf = batch(timestamp);
        int size = new RecordsCompressor().compressInPlace(buf.limit(buf.capacity()), batchSize(buf), Compression.LZ4,
            RecordsCompressor.LZ4_DEFAULT_LEVEL);
        return buf.limit(size);
    }
}
