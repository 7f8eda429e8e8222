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

/** Fetch and ListOffsets over the wire against the real storage. */
class FetchAndListOffsetsTest {
    @TempDir
    Path dir;

    private IdemlogServer server;

    @BeforeEach
    void start() throws Exception {
        server = IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
            "log.dirs", dir.toString(), "create.topics", "t:1", "log.index.interval.bytes", "100")),
            (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    /** A batch of {@code n} records with timestamps firstTs, firstTs+1, ... */
    private static MemoryRecords batch(int n, long firstTs, int valueSize) {
        ByteBuffer buf = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + n * (valueSize + 20));
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < n; i++) {
            assertTrue(b.tryAppend(firstTs + i, null, new byte[valueSize], null));
        }
        return new MemoryRecords(buf.limit(b.close()));
    }

    private static long produce(WireClient c, MemoryRecords records) throws IOException {
        ProduceRequest req = new ProduceRequest();
        req.acks = -1;
        req.timeoutMs = 30_000;
        ProduceRequest.TopicData t = new ProduceRequest.TopicData("t");
        t.partitions.add(new ProduceRequest.PartitionData(0, records));
        req.topics.add(t);
        ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, req);
        assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode);
        return rsp.topics.get(0).partitions.get(0).baseOffset;
    }

    private static FetchRequest fetch(long offset, int partitionMaxBytes, int maxWaitMs) {
        FetchRequest req = new FetchRequest();
        req.maxWaitMs = maxWaitMs;
        req.minBytes = 1;
        req.maxBytes = 50 << 20;
        FetchRequest.Topic t = new FetchRequest.Topic("t");
        t.partitions.add(new FetchRequest.Partition(0, offset, partitionMaxBytes));
        req.topics.add(t);
        return req;
    }

    /** Base offsets of the whole batches in a fetched partition, and checks each batch is intact. */
    private static List<Long> batches(FetchResponse.Partition p) {
        List<Long> bases = new ArrayList<>();
        ByteBuffer b = ((MemoryRecords) p.records).buffer();
        int pos = b.position();
        RecordBatch batch = new RecordBatch();
        while (b.limit() - pos >= RecordBatch.HEADER_SIZE) {
            batch.wrap(b, pos);
            if (batch.sizeInBytes() > b.limit() - pos) {
                break;
            }
            assertEquals(RecordBatch.Validation.VALID, batch.validate(b.limit() - pos, Integer.MAX_VALUE));
            bases.add(batch.baseOffset());
            pos += batch.sizeInBytes();
        }
        return bases;
    }

    @Test
    void fetchReturnsWholeBatchesFromTheOneHoldingTheFetchOffset() throws IOException {
        try (WireClient c = new WireClient(server.port())) {
            for (int i = 0; i < 10; i++) {
                assertEquals(i * 10L, produce(c, batch(10, 1000 + i * 10, 50)));
            }
            FetchResponse rsp = c.call(ApiKey.FETCH, (short) 12, fetch(35, 1 << 20, 0));
            FetchResponse.Partition p = rsp.topics.get(0).partitions.get(0);
            assertEquals(0, p.errorCode);
            assertEquals(100L, p.highWatermark);
            assertEquals(List.of(30L, 40L, 50L, 60L, 70L, 80L, 90L), batches(p));
            RecordReader r = new RecordReader().wrap(((MemoryRecords) p.records).buffer(),
                ((MemoryRecords) p.records).buffer().position());
            assertTrue(r.next());
            assertEquals(30L, r.offset, "the first batch starts before the fetch offset; the client skips ahead");
        }
    }

    @Test
    void aFirstBatchLargerThanTheLimitIsStillSentWhole() throws IOException {
        try (WireClient c = new WireClient(server.port())) {
            produce(c, batch(20, 1000, 500));
            produce(c, batch(20, 2000, 500));
            FetchResponse rsp = c.call(ApiKey.FETCH, (short) 11, fetch(0, 100, 0));
            assertEquals(List.of(0L), batches(rsp.topics.get(0).partitions.get(0)));
        }
    }

    @Test
    void anOffsetPastTheHighWatermarkIsOutOfRange() throws IOException {
        try (WireClient c = new WireClient(server.port())) {
            produce(c, batch(5, 1000, 10));
            FetchResponse rsp = c.call(ApiKey.FETCH, (short) 12, fetch(6, 1 << 20, 0));
            assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code, rsp.topics.get(0).partitions.get(0).errorCode);
            rsp = c.call(ApiKey.FETCH, (short) 12, fetch(5, 1 << 20, 0));
            assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode, "the high watermark itself is fine");
            assertEquals(0, rsp.topics.get(0).partitions.get(0).records.sizeInBytes());
        }
    }

    @Test
    void aLongPollingFetchIsWokenByAProduceInsteadOfWaitingItsMaxWait() throws IOException {
        try (WireClient consumer = new WireClient(server.port()); WireClient producer = new WireClient(server.port())) {
            int id = consumer.send(ApiKey.FETCH, (short) 12, fetch(0, 1 << 20, 60_000));
            assertTrue(!consumer.closedByPeer(200), "no data yet: the fetch waits");
            produce(producer, batch(3, 1000, 10));
            long t0 = System.nanoTime();
            FetchResponse rsp = consumer.receive(ApiKey.FETCH, (short) 12, id);
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(waitedMs < 30_000, "woken by the produce, not by max_wait_ms (waited " + waitedMs + " ms)");
            assertEquals(List.of(0L), batches(rsp.topics.get(0).partitions.get(0)));
        }
    }

    @Test
    void listOffsetsFindsTheFirstRecordAtOrAfterATimestamp() throws IOException {
        try (WireClient c = new WireClient(server.port())) {
            for (int i = 0; i < 10; i++) {
                produce(c, batch(10, 10_000 + i * 100, 20)); // batch i holds timestamps 10000+100i .. +9
            }
            ListOffsetsRequest req = new ListOffsetsRequest();
            ListOffsetsRequest.Topic t = new ListOffsetsRequest.Topic("t");
            long[] times = {0, 10_000, 10_005, 10_050, 10_905, 10_909, 10_910, -1, -2};
            for (long ts : times) {
                t.partitions.add(new ListOffsetsRequest.Partition(0, ts));
            }
            req.topics.add(t);
            ListOffsetsResponse rsp = c.call(ApiKey.LIST_OFFSETS, (short) 6, req);
            long[][] expected = {{0, 10_000}, {0, 10_000}, {5, 10_005}, {10, 10_100}, {95, 10_905}, {99, 10_909},
                {-1, -1}, {100, -1}, {0, -1}};
            for (int i = 0; i < times.length; i++) {
                ListOffsetsResponse.Partition p = rsp.topics.get(0).partitions.get(i);
                assertEquals(0, p.errorCode);
                assertEquals(expected[i][0], p.offset, "offset for " + times[i]);
                assertEquals(expected[i][1], p.timestamp, "timestamp for " + times[i]);
            }
        }
    }
}
