package io.idemlog.server.network;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.ApiVersionsRequest;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.common.protocol.message.FetchRequest;
import io.idemlog.common.protocol.message.FetchResponse;
import io.idemlog.common.protocol.message.InitProducerIdRequest;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.protocol.message.ListOffsetsRequest;
import io.idemlog.common.protocol.message.ListOffsetsResponse;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.InMemoryLogStore;
import io.idemlog.server.WireClient;
import io.idemlog.server.config.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The network layer and handlers over real sockets, with storage replaced by {@link InMemoryLogStore} so that
 * durability is under the test's control.
 */
class NetworkLayerTest {
    @TempDir
    Path dir;

    private IdemlogServer server;
    private InMemoryLogStore store;

    @BeforeEach
    void start() throws Exception {
        server = start(Map.of());
    }

    private IdemlogServer start(Map<String, String> extra) throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("create.topics", "t1:2");
        props.put("socket.request.max.bytes", "65536");
        props.putAll(extra);
        return IdemlogServer.start(ServerConfig.of(props), (d, c, l) -> store = new InMemoryLogStore(l));
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        assertTrue(store.closed, "storage closed on shutdown");
    }

    private WireClient client() throws IOException {
        return new WireClient(server.port());
    }

    private static byte[] capture(String name) throws IOException {
        try (InputStream in = NetworkLayerTest.class.getResourceAsStream("/captures/" + name)) {
            assertNotNull(in, name);
            return in.readAllBytes();
        }
    }

    static MemoryRecords batch(int records) {
        ByteBuffer buf = ByteBuffer.allocate(1024);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < records; i++) {
            assertTrue(b.tryAppend(1000 + i, null, ("v" + i).getBytes(), null));
        }
        int size = b.close();
        return new MemoryRecords(buf.limit(size));
    }

    static ProduceRequest produce(short acks, int timeoutMs, String topic, int... partitions) {
        ProduceRequest req = new ProduceRequest();
        req.acks = acks;
        req.timeoutMs = timeoutMs;
        ProduceRequest.TopicData td = new ProduceRequest.TopicData(topic);
        for (int p : partitions) {
            td.partitions.add(new ProduceRequest.PartitionData(p, batch(3)));
        }
        req.topics.add(td);
        return req;
    }

    @Test
    void shouldAnswerEveryAdvertisedApiVersionsVersionWithTheFullTable() throws IOException {
        try (WireClient c = client()) {
            for (short v = 0; v <= 3; v++) {
                ApiVersionsRequest req = new ApiVersionsRequest();
                req.clientSoftwareName = "test";
                req.clientSoftwareVersion = "1.0";
                ApiVersionsResponse rsp = c.call(ApiKey.API_VERSIONS, v, req);
                assertEquals(0, rsp.errorCode);
                assertEquals(ApiKey.values().length, rsp.apiKeys.size());
                for (ApiKey api : ApiKey.values()) {
                    ApiVersionsResponse.ApiVersion av = rsp.find(api.id);
                    // Produce is advertised from v0 (served from v3), as Kafka 4.x does: librdkafka's feature
                    // detection needs it to compress (ApiVersionsHandler.advertisedMinVersion)
                    assertEquals(api == ApiKey.PRODUCE ? 0 : api.minVersion, av.minVersion, api.name());
                    assertEquals(api.maxVersion, av.maxVersion);
                }
            }
        }
    }

    /**
     * The captured v3 table (recorded when Produce was advertised from v3) with Produce's min version 0, as it is
     * advertised now: correlation id (4), error code (2), array length (1), then Produce's key (2) and min (2).
     */
    private static byte[] produceFromV0(byte[] table) {
        ByteBuffer b = ByteBuffer.wrap(table);
        assertEquals(ApiKey.PRODUCE.id, b.getShort(7));
        assertEquals(3, b.getShort(9));
        b.putShort(9, (short) 0);
        return withApisAddedSince(table);
    }

    /**
     * The captured v3 table with the entries of the APIs added since the capture (ApiKey constants it does not
     * list, in ApiKey order) inserted after its last entry, as the server lists them, and the max version of an
     * API whose range grew since (Metadata) raised: every other captured byte stays as it was.
     */
    private static byte[] withApisAddedSince(byte[] table) {
        int n = table[6] - 1;
        assertTrue(n > 0 && n < 120, "one-byte compact array count");
        Set<Short> captured = new HashSet<>();
        ByteBuffer entries = ByteBuffer.wrap(table);
        for (int i = 0; i < n; i++) {
            short id = entries.getShort(7 + i * 7);
            captured.add(id);
            // an API whose range grew since the capture (Metadata 9 -> 12 for topic ids): its max as advertised now
            entries.putShort(7 + i * 7 + 4, ApiKey.forId(id).maxVersion);
        }
        java.io.ByteArrayOutputStream added = new java.io.ByteArrayOutputStream();
        int count = n;
        for (ApiKey api : ApiKey.values()) {
            if (!captured.contains(api.id)) {
                ByteBuffer e = ByteBuffer.allocate(7).putShort(api.id).putShort(api.minVersion)
                    .putShort(api.maxVersion).put((byte) 0);
                added.writeBytes(e.array());
                count++;
            }
        }
        int at = 7 + n * 7;
        byte[] out = new byte[table.length + added.size()];
        System.arraycopy(table, 0, out, 0, at);
        System.arraycopy(added.toByteArray(), 0, out, at, added.size());
        System.arraycopy(table, at, out, at + added.size(), table.length - at);
        out[6] = (byte) (count + 1);
        return out;
    }

    @Test
    void shouldAnswerTheCapturedV3RequestWithTheVersionSetBTableByteForByte() throws IOException {
        try (WireClient c = client()) {
            c.sendFrame(capture("firstflex/req-k18-v3-1.bin"));
            assertArrayEquals(produceFromV0(capture("firstflex/rsp-rewritten-k18-v3-1.bin")), c.receiveFrame());
        }
    }

    @Test
    void shouldAnswerATooNewApiVersionsInV0FormAndKeepTheConnection() throws IOException {
        try (WireClient c = client()) {
            c.sendFrame(capture("firstflex/req-k18-v4-1.bin"));
            assertArrayEquals(capture("firstflex/rsp-local-k18-v4-1.bin"), c.receiveFrame());
            c.sendFrame(capture("firstflex/req-k18-v5-2.bin"));
            assertArrayEquals(capture("firstflex/rsp-local-k18-v5-2.bin"), c.receiveFrame());
            // then the client retries at v3 on the same connection
            c.sendFrame(capture("firstflex/req-k18-v3-1.bin"));
            assertArrayEquals(produceFromV0(capture("firstflex/rsp-rewritten-k18-v3-1.bin")), c.receiveFrame());
        }
    }

    @Test
    void shouldAnswerLibrdkafkasApiVersionsV0Retry() throws IOException {
        try (WireClient c = client()) {
            c.sendFrame(capture("nonflex-kcat/req-k18-v0-1.bin"));
            WireReader r = new WireReader(ByteBuffer.wrap(c.receiveFrame()));
            assertEquals(2, ResponseHeader.read(r, (short) 0));
            ApiVersionsResponse rsp = ApiVersionsResponse.read(r, (short) 0);
            assertFalse(r.hasRemaining());
            assertEquals(ApiKey.values().length, rsp.apiKeys.size());
        }
    }

    @Test
    void shouldRejectABadClientSoftwareNameWithInvalidRequest() throws IOException {
        try (WireClient c = client()) {
            ApiVersionsRequest req = new ApiVersionsRequest();
            req.clientSoftwareName = "bad name!";
            req.clientSoftwareVersion = "1";
            ApiVersionsResponse rsp = c.call(ApiKey.API_VERSIONS, (short) 3, req);
            assertEquals(ErrorCode.INVALID_REQUEST.code, rsp.errorCode);
        }
    }

    @Test
    void shouldCloseTheConnectionOnAnUnknownApiKeyAndKeepServingOthers() throws IOException {
        try (WireClient bad = client(); WireClient good = client()) {
            bad.sendFrame(new byte[] {0, 99, 0, 0, 0, 0, 0, 7, 0, 0});
            assertTrue(bad.closedByPeer(5000));
            ApiVersionsResponse rsp = good.call(ApiKey.API_VERSIONS, (short) 2, new ApiVersionsRequest());
            assertEquals(0, rsp.errorCode);
        }
    }

    @Test
    void shouldCloseTheConnectionOnAnUnsupportedVersion() throws IOException {
        try (WireClient c = client()) {
            c.sendFrame(WireClient.encode(ApiKey.PRODUCE, (short) 2, 1, produce((short) 1, 1000, "t1", 0)));
            assertTrue(c.closedByPeer(5000));
        }
        try (WireClient c = client()) {
            c.sendFrame(WireClient.encode(ApiKey.FETCH, (short) 12, 1, new FetchRequest()));
            byte[] frame = WireClient.encode(ApiKey.FETCH, (short) 12, 1, new FetchRequest());
            frame[3] = 13; // claim v13 (topic ids), which is not advertised
            c.receiveFrame();
            c.sendFrame(frame);
            assertTrue(c.closedByPeer(5000));
        }
    }

    @Test
    void shouldCloseTheConnectionOnAnOversizedFrameWithoutReadingIt() throws IOException {
        try (WireClient c = client()) {
            c.sendBytes(ByteBuffer.allocate(4).putInt(65537).array());
            assertTrue(c.closedByPeer(5000));
        }
        try (WireClient c = client()) {
            c.sendBytes(ByteBuffer.allocate(4).putInt(-5).array());
            assertTrue(c.closedByPeer(5000));
        }
    }

    @Test
    void shouldCloseTheConnectionOnATruncatedBody() throws IOException {
        byte[] full = WireClient.encode(ApiKey.METADATA, (short) 9, 1, metadata(List.of("t1")));
        byte[] cut = new byte[full.length - 3];
        System.arraycopy(full, 0, cut, 0, cut.length);
        try (WireClient c = client()) {
            c.sendFrame(cut);
            assertTrue(c.closedByPeer(5000));
        }
        try (WireClient c = client()) {
            MetadataResponse rsp = c.call(ApiKey.METADATA, (short) 9, metadata(List.of("t1")));
            assertEquals(2, rsp.findTopic("t1").partitions.size());
        }
    }

    private static MetadataRequest metadata(List<String> topics) {
        MetadataRequest req = new MetadataRequest();
        req.topics = topics;
        return req;
    }

    @Test
    void shouldDescribeThisServerAsLeaderOfEveryPartitionAtItsRealPort() throws IOException {
        try (WireClient c = client()) {
            MetadataResponse rsp = c.call(ApiKey.METADATA, (short) 8, metadata(List.of("t1", "t1")));
            assertEquals(1, rsp.brokers.size());
            assertEquals("127.0.0.1", rsp.brokers.get(0).host);
            assertEquals(server.port(), rsp.brokers.get(0).port);
            assertEquals(server.clusterId(), rsp.clusterId);
            assertEquals(1, rsp.topics.size(), "a topic named twice is answered once");
            MetadataResponse.Topic t = rsp.topics.get(0);
            assertEquals(0, t.errorCode);
            for (MetadataResponse.Partition p : t.partitions) {
                assertEquals(1, p.leaderId);
                assertArrayEquals(new int[] {1}, p.replicaNodes);
            }
        }
    }

    @Test
    void shouldAutoCreateOnlyWhenServerAndClientAllowIt() throws IOException {
        try (WireClient c = client()) {
            MetadataRequest noCreate = metadata(List.of("fresh"));
            noCreate.allowAutoTopicCreation = false;
            MetadataResponse rsp = c.call(ApiKey.METADATA, (short) 9, noCreate);
            assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code, rsp.findTopic("fresh").errorCode);
            rsp = c.call(ApiKey.METADATA, (short) 9, metadata(List.of("fresh", "bad/name")));
            assertEquals(0, rsp.findTopic("fresh").errorCode);
            assertEquals(1, rsp.findTopic("fresh").partitions.size());
            assertEquals(ErrorCode.INVALID_TOPIC_EXCEPTION.code, rsp.findTopic("bad/name").errorCode);
            MetadataRequest all = metadata(null);
            rsp = c.call(ApiKey.METADATA, (short) 9, all);
            Set<String> names = new HashSet<>();
            rsp.topics.forEach(t -> names.add(t.name));
            assertEquals(Set.of("t1", "fresh"), names);
        }
    }

    @Test
    void shouldHandOutDistinctProducerIdsAndRefuseTransactionalIds() throws IOException {
        try (WireClient c = client()) {
            Set<Long> ids = new HashSet<>();
            for (short v = 0; v <= 2; v++) {
                InitProducerIdResponse rsp = c.call(ApiKey.INIT_PRODUCER_ID, v, new InitProducerIdRequest());
                assertEquals(0, rsp.errorCode);
                assertEquals(0, rsp.producerEpoch);
                assertTrue(ids.add(rsp.producerId));
            }
            InitProducerIdRequest txn = new InitProducerIdRequest();
            txn.transactionalId = "txn";
            InitProducerIdResponse rsp = c.call(ApiKey.INIT_PRODUCER_ID, (short) 2, txn);
            assertEquals(ErrorCode.INVALID_REQUEST.code, rsp.errorCode);
        }
    }

    @Test
    void shouldHoldAnAcksAllAnswerUntilDurableAndKeepLaterAnswersBehindIt() throws IOException {
        try (WireClient c = client()) {
            int produceId = c.send(ApiKey.PRODUCE, (short) 9, produce((short) -1, 30_000, "t1", 0, 1));
            int metadataId = c.send(ApiKey.METADATA, (short) 9, metadata(List.of("t1")));
            assertTrue(c.silentFor(300), "nothing may be answered before the produce is durable");
            store.fake("t1", 0).makeDurable();
            assertTrue(c.silentFor(200), "partition 1 is not durable yet");
            store.fake("t1", 1).makeDurable();
            ProduceResponse p = c.receive(ApiKey.PRODUCE, (short) 9, produceId);
            for (ProduceResponse.PartitionResponse pr : p.topics.get(0).partitions) {
                assertEquals(0, pr.errorCode);
                assertEquals(0L, pr.baseOffset);
            }
            MetadataResponse m = c.receive(ApiKey.METADATA, (short) 9, metadataId);
            assertNotNull(m.findTopic("t1"));
        }
    }

    /**
     * Answers completed on other threads are handed to the event loop in batches (Connection's stack of completed
     * answers): 60 pipelined acks=all requests over two partitions, interleaved with Metadata requests answered on
     * the event loop, made durable by two threads at once, all answered exactly once and in request order.
     */
    @Test
    void shouldAnswerManyPipelinedAcksAllRequestsCompletedByOtherThreadsInOrder() throws Exception {
        // The test's batches carry no producer id: without this the server would read them one at a time.
        server.close();
        server = start(Map.of("produce.non.idempotent.one.at.a.time", "false"));
        try (WireClient c = client()) {
            int n = 60;
            int[] ids = new int[n];
            boolean[] isProduce = new boolean[n];
            for (int i = 0; i < n; i++) {
                isProduce[i] = i % 3 != 2;
                ids[i] = isProduce[i]
                    ? c.send(ApiKey.PRODUCE, (short) 9, produce((short) -1, 30_000, "t1", i % 2))
                    : c.send(ApiKey.METADATA, (short) 9, metadata(List.of("t1")));
            }
            assertTrue(c.silentFor(200), "nothing answered before the first produce is durable");
            // every batch appended before the two threads make the partitions durable: the fake's makeDurable covers
            // what it holds then (a loaded machine can still be decoding the last requests after the 200 ms)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (store.fake("t1", 0).logEndOffset() + store.fake("t1", 1).logEndOffset() < 40 * 3
                && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L); // polls a condition, bounded
            }
            assertEquals(40 * 3, store.fake("t1", 0).logEndOffset() + store.fake("t1", 1).logEndOffset(),
                "the 40 produce batches of 3 records appended");
            Thread a = new Thread(() -> store.fake("t1", 0).makeDurable(), "durable-0");
            Thread b = new Thread(() -> store.fake("t1", 1).makeDurable(), "durable-1");
            a.start();
            b.start();
            a.join();
            b.join();
            for (int i = 0; i < n; i++) {
                if (isProduce[i]) {
                    ProduceResponse p = c.receive(ApiKey.PRODUCE, (short) 9, ids[i]);
                    assertEquals(0, p.topics.get(0).partitions.get(0).errorCode, "request " + i);
                } else {
                    MetadataResponse m = c.receive(ApiKey.METADATA, (short) 9, ids[i]);
                    assertNotNull(m.findTopic("t1"));
                }
            }
            assertTrue(c.silentFor(100), "every answer exactly once");
        }
    }

    @Test
    void shouldAnswerRequestTimedOutWhenDurabilityTakesLongerThanTheRequestTimeout() throws IOException {
        try (WireClient c = client()) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 8, produce((short) -1, 50, "t1", 0));
            assertEquals(ErrorCode.REQUEST_TIMED_OUT.code, rsp.topics.get(0).partitions.get(0).errorCode);
        }
    }

    @Test
    void shouldAnswerAcksOneAtOnce() throws IOException {
        try (WireClient c = client()) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 3, produce((short) 1, 30_000, "t1", 0));
            ProduceResponse.PartitionResponse pr = rsp.topics.get(0).partitions.get(0);
            assertEquals(0, pr.errorCode);
            assertEquals(0L, pr.baseOffset);
            rsp = c.call(ApiKey.PRODUCE, (short) 3, produce((short) 1, 30_000, "t1", 0));
            assertEquals(3L, rsp.topics.get(0).partitions.get(0).baseOffset);
            assertEquals(2L, server.counters().get("produce.batches_appended"));
            assertEquals(2L, server.counters().get("requests.produce"));
        }
    }

    @Test
    void shouldRejectInvalidAcksOnEveryPartitionAndAppendNothing() throws IOException {
        try (WireClient c = client()) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 8, produce((short) 2, 30_000, "t1", 0, 1));
            for (ProduceResponse.PartitionResponse pr : rsp.topics.get(0).partitions) {
                assertEquals(ErrorCode.INVALID_REQUIRED_ACKS.code, pr.errorCode);
                assertNotNull(pr.errorMessage);
            }
            assertEquals(0, store.fake("t1", 0).logEndOffset());
        }
    }

    @Test
    void shouldRejectASecondBatchForTheSamePartitionInOneRequest() throws IOException {
        try (WireClient c = client()) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) 1, 30_000, "t1", 0, 0));
            assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode);
            assertEquals(ErrorCode.INVALID_RECORD.code, rsp.topics.get(0).partitions.get(1).errorCode);
            assertEquals(3, store.fake("t1", 0).logEndOffset());
        }
    }

    @Test
    void shouldAnswerUnknownTopicOrPartition() throws IOException {
        try (WireClient c = client()) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) 1, 30_000, "t1", 7));
            assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code, rsp.topics.get(0).partitions.get(0).errorCode);
            rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) 1, 30_000, "nope", 0));
            assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code, rsp.topics.get(0).partitions.get(0).errorCode);
        }
    }

    @Test
    void shouldSendNoAnswerForAcksZeroAndCloseOnAnError() throws IOException {
        try (WireClient c = client()) {
            c.send(ApiKey.PRODUCE, (short) 8, produce((short) 0, 30_000, "t1", 0));
            MetadataResponse m = c.call(ApiKey.METADATA, (short) 8, metadata(List.of("t1")));
            assertNotNull(m.findTopic("t1"), "the next request's answer is not held back by acks=0");
            assertEquals(3, store.fake("t1", 0).logEndOffset());
            c.send(ApiKey.PRODUCE, (short) 8, produce((short) 0, 30_000, "t1", 9));
            assertTrue(c.closedByPeer(5000));
        }
    }

    @Test
    void shouldAnswerListOffsetsFromTheHighWatermark() throws IOException {
        try (WireClient c = client()) {
            c.call(ApiKey.PRODUCE, (short) 9, produce((short) 1, 30_000, "t1", 0));
            ListOffsetsRequest req = new ListOffsetsRequest();
            ListOffsetsRequest.Topic t = new ListOffsetsRequest.Topic("t1");
            t.partitions.add(new ListOffsetsRequest.Partition(0, -1));
            t.partitions.add(new ListOffsetsRequest.Partition(0, -2));
            t.partitions.add(new ListOffsetsRequest.Partition(5, -1));
            req.topics.add(t);
            ListOffsetsResponse rsp = c.call(ApiKey.LIST_OFFSETS, (short) 5, req);
            assertEquals(0L, rsp.topics.get(0).partitions.get(0).offset, "not durable yet: high watermark 0");
            store.fake("t1", 0).makeDurable();
            rsp = c.call(ApiKey.LIST_OFFSETS, (short) 6, req);
            assertEquals(3L, rsp.topics.get(0).partitions.get(0).offset);
            assertEquals(0L, rsp.topics.get(0).partitions.get(1).offset);
            assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code, rsp.topics.get(0).partitions.get(2).errorCode);
        }
    }

    @Test
    void shouldAnswerKafkaStorageErrorWhenATimestampLookupCannotReadTheLog() throws IOException {
        try (WireClient c = client()) {
            store.fake("t1", 0).timestampLookupFailure = new IOException("injected: segment unreadable");
            ListOffsetsRequest req = new ListOffsetsRequest();
            ListOffsetsRequest.Topic t = new ListOffsetsRequest.Topic("t1");
            t.partitions.add(new ListOffsetsRequest.Partition(0, 1000L));
            t.partitions.add(new ListOffsetsRequest.Partition(1, 1000L));
            req.topics.add(t);
            ListOffsetsResponse rsp = c.call(ApiKey.LIST_OFFSETS, (short) 6, req);
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code, rsp.topics.get(0).partitions.get(0).errorCode,
                "not 'no such offset'");
            assertEquals(0, rsp.topics.get(0).partitions.get(1).errorCode, "the other partition is answered");
            assertEquals(-1L, rsp.topics.get(0).partitions.get(1).offset);
            assertEquals(1L, server.counters().get("errors.storage"));
        }
    }

    @Test
    void shouldLongPollAFetchUntilMaxWaitWithoutBusyLooping() throws IOException {
        try (WireClient c = client()) {
            FetchRequest req = new FetchRequest();
            req.maxWaitMs = 300;
            req.minBytes = 1;
            req.maxBytes = 1 << 20;
            FetchRequest.Topic t = new FetchRequest.Topic("t1");
            t.partitions.add(new FetchRequest.Partition(0, 0, 1 << 20));
            req.topics.add(t);
            long t0 = System.nanoTime();
            FetchResponse rsp = c.call(ApiKey.FETCH, (short) 11, req);
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(waitedMs >= 250, "answered after " + waitedMs + " ms, before max_wait_ms");
            assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode);
            assertEquals(0, rsp.sessionId);
            assertEquals(0, server.metrics().requests(ApiKey.FETCH) - 1);
        }
    }

    @Test
    void shouldRefuseFetchSessionsItNeverCreated() throws IOException {
        try (WireClient c = client()) {
            FetchRequest req = new FetchRequest();
            req.sessionId = 42;
            req.sessionEpoch = 3;
            FetchResponse rsp = c.call(ApiKey.FETCH, (short) 12, req);
            assertEquals(ErrorCode.FETCH_SESSION_ID_NOT_FOUND.code, rsp.errorCode);
        }
    }
}
