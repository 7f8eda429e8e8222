package io.idemlog.server;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.FetchRequest;
import io.idemlog.common.protocol.message.FetchResponse;
import io.idemlog.common.protocol.message.ListOffsetsRequest;
import io.idemlog.common.protocol.message.ListOffsetsResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.common.record.RecordReader;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ListOffsets v7+ special timestamps over the wire against the real storage: -3 max, -4 earliest local, -5 tiered. */
class ListOffsetsSpecialTimestampsTest {
    @TempDir
    Path dir;

    private IdemlogServer server;

    @BeforeEach
    void start() throws Exception {
        server = IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
            "log.dirs", dir.toString(), "create.topics", "t:1,empty:1", "log.index.interval.bytes", "100")),
            (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private static MemoryRecords batch(long... timestamps) {
        ByteBuffer buf = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + timestamps.length * 60);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (long ts : timestamps) {
            assertTrue(b.tryAppend(ts, null, new byte[20], null));
        }
        return new MemoryRecords(buf.limit(b.close()));
    }

    private static void produce(WireClient c, MemoryRecords records) throws IOException {
        ProduceRequest req = new ProduceRequest();
        req.acks = -1;
        req.timeoutMs = 30_000;
        ProduceRequest.TopicData t = new ProduceRequest.TopicData("t");
        t.partitions.add(new ProduceRequest.PartitionData(0, records));
        req.topics.add(t);
        ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, req);
        assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode);
    }

    private static ListOffsetsResponse.Partition list(WireClient c, String topic, long spec, short version)
        throws IOException {
        ListOffsetsRequest req = new ListOffsetsRequest();
        ListOffsetsRequest.Topic t = new ListOffsetsRequest.Topic(topic);
        t.partitions.add(new ListOffsetsRequest.Partition(0, spec));
        req.topics.add(t);
        ListOffsetsResponse rsp = c.call(ApiKey.LIST_OFFSETS, version, req);
        ListOffsetsResponse.Partition p = rsp.topics.get(0).partitions.get(0);
        assertEquals(0, p.errorCode, "spec " + spec);
        return p;
    }

    @Test
    void maxTimestampIsTheFirstRecordWithTheLargestTimestampEvenWhenTimestampsGoBack() throws IOException {
        try (WireClient c = new WireClient(server.port())) {
            produce(c, batch(10_000, 10_001, 10_002));        // offsets 0-2
            produce(c, batch(20_000, 50_000, 30_000));        // 3-5: the max at offset 4
            produce(c, batch(40_000, 50_000, 12_000, 7));     // 6-9: the max again at 7 (not the first)
            for (short v = 7; v <= 10; v++) {
                ListOffsetsResponse.Partition p = list(c, "t", -3L, v);
                assertEquals(4L, p.offset, "v" + v);
                assertEquals(50_000L, p.timestamp, "v" + v);
            }
            assertEquals(0L, list(c, "t", -4L, (short) 8).offset, "earliest local = log start");
            ListOffsetsResponse.Partition tiered = list(c, "t", -5L, (short) 9);
            assertEquals(-1L, tiered.offset, "nothing tiered");
            ListOffsetsResponse.Partition none = list(c, "empty", -3L, (short) 7);
            assertEquals(-1L, none.offset);
            assertEquals(-1L, none.timestamp);
        }
    }
}
