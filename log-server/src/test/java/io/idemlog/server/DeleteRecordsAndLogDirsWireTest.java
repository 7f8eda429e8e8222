package io.idemlog.server;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.DeleteRecordsRequest;
import io.idemlog.common.protocol.message.DeleteRecordsResponse;
import io.idemlog.common.protocol.message.DescribeLogDirsRequest;
import io.idemlog.common.protocol.message.DescribeLogDirsResponse;
import io.idemlog.common.protocol.message.FetchRequest;
import io.idemlog.common.protocol.message.FetchResponse;
import io.idemlog.common.protocol.message.ListOffsetsRequest;
import io.idemlog.common.protocol.message.ListOffsetsResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeleteRecords and DescribeLogDirs over the wire against the real storage, every version: the error cases per
 * partition (unknown topic or partition, above the high watermark, negative), -1 as the high watermark, a request
 * below the start answered with the current start; Fetch below the start OFFSET_OUT_OF_RANGE, its log_start_offset,
 * ListOffsets earliest; DescribeLogDirs' sizes (as the segment files are), filter and missing topics.
 */
class DeleteRecordsAndLogDirsWireTest {
    @TempDir
    Path dir;

    private IdemlogServer server;

    @BeforeEach
    void start() throws Exception {
        server = IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
            "log.dirs", dir.toString(), "create.topics", "t:2", "log.segment.bytes", "2000",
            "log.preallocate", "false",
            // the batches' timestamps are from 1970: with the default 7-day retention the first maintenance tick
            // (about a second after start) would delete their sealed segments under the test's feet
            "log.retention.ms", "-1")),
            (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private static MemoryRecords batch(int n) {
        ByteBuffer buf = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + n * 120);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < n; i++) {
            assertTrue(b.tryAppend(1000 + i, null, new byte[80], null));
        }
        return new MemoryRecords(buf.limit(b.close()));
    }

    private static void produce(WireClient c, int partition, MemoryRecords records) throws IOException {
        ProduceRequest req = new ProduceRequest();
        req.acks = -1;
        req.timeoutMs = 30_000;
        ProduceRequest.TopicData t = new ProduceRequest.TopicData("t");
        t.partitions.add(new ProduceRequest.PartitionData(partition, records));
        req.topics.add(t);
        ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, req);
        assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode);
    }

    private static DeleteRecordsRequest deleteRecords(String topic, long... partitionAndOffset) {
        DeleteRecordsRequest req = new DeleteRecordsRequest();
        DeleteRecordsRequest.Topic t = new DeleteRecordsRequest.Topic(topic);
        for (int i = 0; i < partitionAndOffset.length; i += 2) {
            t.partitions.add(new DeleteRecordsRequest.Partition((int) partitionAndOffset[i], partitionAndOffset[i + 1]));
        }
        req.topics.add(t);
        return req;
    }

    private static FetchResponse.Partition fetch(WireClient c, long offset) throws IOException {
        FetchRequest req = new FetchRequest();
        req.maxWaitMs = 0;
        req.minBytes = 1;
        req.maxBytes = 1 << 20;
        FetchRequest.Topic t = new FetchRequest.Topic("t");
        t.partitions.add(new FetchRequest.Partition(0, offset, 1 << 20));
        req.topics.add(t);
        FetchResponse rsp = c.call(ApiKey.FETCH, (short) 12, req);
        return rsp.topics.get(0).partitions.get(0);
    }

    private static long earliest(WireClient c) throws IOException {
        ListOffsetsRequest req = new ListOffsetsRequest();
        ListOffsetsRequest.Topic t = new ListOffsetsRequest.Topic("t");
        t.partitions.add(new ListOffsetsRequest.Partition(0, ListOffsetsRequest.EARLIEST_TIMESTAMP));
        req.topics.add(t);
        ListOffsetsResponse rsp = c.call(ApiKey.LIST_OFFSETS, (short) 6, req);
        assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode);
        return rsp.topics.get(0).partitions.get(0).offset;
    }

    @Test
    void deleteRecordsEveryVersionWithItsErrorsAndItsEffectOnFetchAndListOffsets() throws IOException {
        try (WireClient c = new WireClient(server.port())) {
            for (int i = 0; i < 10; i++) {
                produce(c, 0, batch(10)); // ~1 KB each: a segment every second batch
            }
            long start = 0;
            for (short v = 0; v <= 2; v++) {
                long target = 15 + 10 * v;
                DeleteRecordsRequest req = deleteRecords("t", 0, target, 7, 5, 0, 1_000, 0, -7, 1, 0);
                req.topics.add(deleteRecords("missing", 0, 0).topics.get(0));
                DeleteRecordsResponse rsp = c.call(ApiKey.DELETE_RECORDS, v, req);
                List<DeleteRecordsResponse.Partition> ps = rsp.topics.get(0).partitions;
                assertEquals(5, ps.size());
                assertEquals(0, ps.get(0).errorCode, "v" + v);
                assertEquals(target, ps.get(0).lowWatermark);
                assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code, ps.get(1).errorCode);
                assertEquals(-1L, ps.get(1).lowWatermark);
                assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code, ps.get(2).errorCode, "above the high watermark");
                assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code, ps.get(3).errorCode, "negative, not -1");
                assertEquals(0, ps.get(4).errorCode, "partition 1, empty, offset 0: nothing to do");
                assertEquals(0L, ps.get(4).lowWatermark);
                assertEquals("missing", rsp.topics.get(1).name);
                assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code, rsp.topics.get(1).partitions.get(0).errorCode);
                start = target;
                assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code, fetch(c, target - 1).errorCode);
                FetchResponse.Partition at = fetch(c, target);
                assertEquals(0, at.errorCode);
                assertEquals(target, at.logStartOffset);
                assertEquals(target, earliest(c));
            }
            DeleteRecordsResponse below = c.call(ApiKey.DELETE_RECORDS, (short) 2, deleteRecords("t", 0, 3));
            assertEquals(0, below.topics.get(0).partitions.get(0).errorCode);
            assertEquals(start, below.topics.get(0).partitions.get(0).lowWatermark, "below the start: the current");
            DeleteRecordsResponse all = c.call(ApiKey.DELETE_RECORDS, (short) 1, deleteRecords("t", 0, -1));
            assertEquals(100L, all.topics.get(0).partitions.get(0).lowWatermark, "-1: the high watermark");
            assertEquals(100L, earliest(c));
            FetchResponse.Partition end = fetch(c, 100);
            assertEquals(0, end.errorCode);
            assertEquals(100L, end.logStartOffset);
        }
    }

    private long sizeOnDisk(int partition) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("topics").resolve("t-" + partition))) {
            long total = 0;
            for (Path f : s.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }

    @Test
    void describeLogDirsEveryVersion() throws IOException {
        try (WireClient c = new WireClient(server.port())) {
            for (int i = 0; i < 3; i++) {
                produce(c, 1, batch(5));
            }
            for (short v = 0; v <= 4; v++) {
                DescribeLogDirsResponse rsp = c.call(ApiKey.DESCRIBE_LOG_DIRS, v, new DescribeLogDirsRequest());
                assertEquals(1, rsp.results.size());
                DescribeLogDirsResponse.Result d = rsp.results.get(0);
                assertEquals(0, d.errorCode);
                assertEquals(dir.toAbsolutePath().normalize().toString(), d.logDir);
                assertEquals(1, d.topics.size());
                assertEquals("t", d.topics.get(0).name);
                List<DescribeLogDirsResponse.Partition> ps = d.topics.get(0).partitions;
                assertEquals(2, ps.size());
                assertEquals(0L, ps.get(0).partitionSize);
                assertTrue(ps.get(1).partitionSize > 0);
                assertEquals(sizeOnDisk(1), ps.get(1).partitionSize, "the segment files' bytes");
                assertEquals(0L, ps.get(1).offsetLag);
                assertEquals(false, ps.get(1).isFutureKey);
                if (v >= 4) {
                    assertTrue(d.totalBytes > 0 && d.usableBytes >= 0 && d.usableBytes <= d.totalBytes,
                        d.totalBytes + " " + d.usableBytes);
                } else {
                    assertEquals(-1L, d.totalBytes);
                }
                DescribeLogDirsRequest filtered = new DescribeLogDirsRequest();
                filtered.topics = new ArrayList<>(List.of(new DescribeLogDirsRequest.Topic("t", 1, 9, 1),
                    new DescribeLogDirsRequest.Topic("missing", 0)));
                rsp = c.call(ApiKey.DESCRIBE_LOG_DIRS, v, filtered);
                d = rsp.results.get(0);
                assertEquals(1, d.topics.size(), "an unknown topic is absent");
                assertEquals(1, d.topics.get(0).partitions.size(), "an unknown partition is absent, 1 once");
                assertEquals(1, d.topics.get(0).partitions.get(0).partitionIndex);
            }
        }
    }
}
