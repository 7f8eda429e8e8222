package io.idemlog.server;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.FetchResponse;
import io.idemlog.common.protocol.message.ListOffsetsResponse;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.OffsetForLeaderEpochRequest;
import io.idemlog.common.protocol.message.OffsetForLeaderEpochResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Leader epochs on the wire against the real storage (a single node: epoch 0): OffsetForLeaderEpoch every version,
 * Metadata's leader_epoch, and Fetch (v9, v12) and ListOffsets (v4, v7) with {@code current_leader_epoch} in
 * hand-built frames (bytes written here field by field, not by idemlog's codec): lower than 0 FENCED_LEADER_EPOCH,
 * higher UNKNOWN_LEADER_EPOCH, -1 and 0 served.
 */
class LeaderEpochWireTest {
    @TempDir
    Path dir;

    private IdemlogServer server;

    private void start() throws Exception {
        server = IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
            "log.dirs", dir.toString(), "create.topics", "t:2,empty:1")),
            (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    static MemoryRecords batch(int n) {
        ByteBuffer buf = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + n * 40);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < n; i++) {
            assertTrue(b.tryAppend(1000 + i, null, ("v" + i).getBytes(StandardCharsets.UTF_8), null));
        }
        return new MemoryRecords(buf.limit(b.close()));
    }

    static void produce(WireClient c, String topic, int partition, int n) throws IOException {
        ProduceRequest req = new ProduceRequest();
        req.acks = -1;
        req.timeoutMs = 30_000;
        ProduceRequest.TopicData t = new ProduceRequest.TopicData(topic);
        t.partitions.add(new ProduceRequest.PartitionData(partition, batch(n)));
        req.topics.add(t);
        ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, req);
        assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode);
    }

    static OffsetForLeaderEpochRequest epochRequest(String topic, int partition, int current, int epoch) {
        OffsetForLeaderEpochRequest req = new OffsetForLeaderEpochRequest();
        req.replicaId = -1;
        OffsetForLeaderEpochRequest.Topic t = new OffsetForLeaderEpochRequest.Topic(topic);
        t.partitions.add(new OffsetForLeaderEpochRequest.Partition(partition, current, epoch));
        req.topics.add(t);
        return req;
    }

    static OffsetForLeaderEpochResponse.Partition epochCall(WireClient c, short v, String topic, int partition,
                                                            int current, int epoch) throws IOException {
        OffsetForLeaderEpochResponse rsp = c.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, v,
            epochRequest(topic, partition, current, epoch));
        assertEquals(1, rsp.topics.size());
        assertEquals(topic, rsp.topics.get(0).topic);
        OffsetForLeaderEpochResponse.Partition p = rsp.topics.get(0).partitions.get(0);
        assertEquals(partition, p.partition);
        return p;
    }

    private static void assertEpochAnswer(OffsetForLeaderEpochResponse.Partition p, ErrorCode error, int epoch,
                                          long end, short v) {
        assertEquals(error.code, p.errorCode, "v" + v);
        assertEquals(v >= 1 ? epoch : -1, p.leaderEpoch, "v" + v + " leader_epoch");
        assertEquals(end, p.endOffset, "v" + v + " end_offset");
    }

    @Test
    void offsetForLeaderEpochEveryVersion() throws Exception {
        start();
        try (WireClient c = new WireClient(server.port())) {
            for (short v = 0; v <= 4; v++) {
                // nothing appended yet: the current epoch 0 ends at the log end, 0
                assertEpochAnswer(epochCall(c, v, "t", 1, -1, 0), ErrorCode.NONE, 0, 0L, v);
            }
            produce(c, "t", 0, 7);
            produce(c, "t", 0, 3);
            for (short v = 0; v <= 4; v++) {
                int current = v >= 2 ? 0 : -1;
                assertEpochAnswer(epochCall(c, v, "t", 0, current, 0), ErrorCode.NONE, 0, 10L, v);
                assertEpochAnswer(epochCall(c, v, "t", 0, current, 1), ErrorCode.NONE, -1, -1L, v);
                assertEpochAnswer(epochCall(c, v, "t", 0, current, -1), ErrorCode.NONE, -1, -1L, v);
                assertEpochAnswer(epochCall(c, v, "nope", 0, current, 0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                    -1, -1L, v);
                assertEpochAnswer(epochCall(c, v, "t", 2, current, 0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                    -1, -1L, v);
                if (v >= 2) {
                    assertEpochAnswer(epochCall(c, v, "t", 0, 1, 0), ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1L, v);
                    assertEpochAnswer(epochCall(c, v, "t", 0, -3, 0), ErrorCode.FENCED_LEADER_EPOCH, -1, -1L, v);
                }
            }
            // a debug client (replica id -2) and several partitions in one request
            OffsetForLeaderEpochRequest req = epochRequest("t", 0, 0, 0);
            req.replicaId = -2;
            req.topics.get(0).partitions.add(new OffsetForLeaderEpochRequest.Partition(1, 0, 0));
            req.topics.add(new OffsetForLeaderEpochRequest.Topic("empty"));
            OffsetForLeaderEpochResponse rsp = c.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, (short) 4, req);
            assertEquals(10L, rsp.topics.get(0).partitions.get(0).endOffset);
            assertEquals(0L, rsp.topics.get(0).partitions.get(1).endOffset);
            assertEquals(0, rsp.topics.get(1).partitions.size());
        }
    }

    @Test
    void metadataAnswersEpochZero() throws Exception {
        start();
        try (WireClient c = new WireClient(server.port())) {
            for (short v : new short[] {7, 9, 12}) {
                MetadataRequest req = new MetadataRequest();
                req.topics = List.of("t");
                MetadataResponse rsp = c.call(ApiKey.METADATA, v, req);
                for (MetadataResponse.Partition p : rsp.topics.get(0).partitions) {
                    assertEquals(0, p.leaderEpoch, "v" + v);
                    assertEquals(server.config().nodeId, p.leaderId);
                }
            }
        }
    }

    /** A little writer of Kafka's primitive types, for frames built by hand. */
    static final class Frame {
        private final ByteBuffer b = ByteBuffer.allocate(1024);

        Frame header(int api, int version, int correlationId, boolean flexible) {
            b.putShort((short) api).putShort((short) version).putInt(correlationId);
            string("hand"); // client_id: a non-compact nullable string in every header version
            if (flexible) {
                b.put((byte) 0); // header tagged fields
            }
            return this;
        }

        Frame i8(int v) {
            b.put((byte) v);
            return this;
        }

        Frame i32(int v) {
            b.putInt(v);
            return this;
        }

        Frame i64(long v) {
            b.putLong(v);
            return this;
        }

        Frame string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            b.putShort((short) bytes.length).put(bytes);
            return this;
        }

        /** A compact string or array length, as one unsigned varint byte (n + 1 < 128). */
        Frame compact(int n) {
            b.put((byte) (n + 1));
            return this;
        }

        Frame compactString(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            compact(bytes.length);
            b.put(bytes);
            return this;
        }

        byte[] bytes() {
            byte[] out = new byte[b.position()];
            b.flip().get(out);
            return out;
        }
    }

    /** Fetch of t-0 from offset 0 with {@code epoch} as current_leader_epoch: v9 (classic) or v12 (flexible). */
    static byte[] fetchFrame(int version, int correlationId, int epoch) {
        boolean flex = version >= 12;
        Frame f = new Frame().header(1, version, correlationId, flex)
            .i32(-1).i32(0).i32(1).i32(1 << 20).i8(0).i32(0).i32(-1); // replica, wait, min/max bytes, iso, session
        if (flex) {
            f.compact(1).compactString("t").compact(1)
                .i32(0).i32(epoch).i64(0L).i32(-1).i64(-1L).i32(1 << 20).i8(0) // last_fetched_epoch -1, tags
                .i8(0) // topic tags
                .compact(0) // forgotten topics
                .compactString("") // rack_id
                .i8(0); // request tags
        } else {
            f.i32(1).string("t").i32(1).i32(0).i32(epoch).i64(0L).i64(-1L).i32(1 << 20).i32(0); // no forgotten
        }
        return f.bytes();
    }

    /** ListOffsets of t-0, latest (-1), with {@code epoch} as current_leader_epoch: v4 (classic) or v7. */
    static byte[] listOffsetsFrame(int version, int correlationId, int epoch) {
        boolean flex = version >= 6;
        Frame f = new Frame().header(2, version, correlationId, flex).i32(-1).i8(0);
        if (flex) {
            f.compact(1).compactString("t").compact(1).i32(0).i32(epoch).i64(-1L).i8(0).i8(0).i8(0);
        } else {
            f.i32(1).string("t").i32(1).i32(0).i32(epoch).i64(-1L);
        }
        return f.bytes();
    }

    @Test
    void fetchAndListOffsetsCheckTheCurrentLeaderEpochInHandBuiltFrames() throws Exception {
        start();
        try (WireClient c = new WireClient(server.port())) {
            produce(c, "t", 0, 5);
            int id = 100;
            for (int version : new int[] {9, 12}) {
                for (int epoch : new int[] {-1, 0, 1, 7, -2, Integer.MIN_VALUE}) {
                    c.sendFrame(fetchFrame(version, ++id, epoch));
                    FetchResponse rsp = c.receive(ApiKey.FETCH, (short) version, id);
                    FetchResponse.Partition p = rsp.topics.get(0).partitions.get(0);
                    String what = "Fetch v" + version + " current_leader_epoch " + epoch;
                    if (epoch == -1 || epoch == 0) {
                        assertEquals(ErrorCode.NONE.code, p.errorCode, what);
                        assertEquals(5L, p.highWatermark, what);
                        assertTrue(p.records.sizeInBytes() > 0, what);
                    } else {
                        assertEquals((epoch > 0 ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH).code,
                            p.errorCode, what);
                        assertEquals(-1L, p.highWatermark, what);
                        assertEquals(-1L, p.lastStableOffset, what);
                        assertEquals(-1L, p.logStartOffset, what);
                        assertEquals(0, p.records.sizeInBytes(), what);
                    }
                }
            }
            for (int version : new int[] {4, 7}) {
                for (int epoch : new int[] {-1, 0, 1, -2}) {
                    c.sendFrame(listOffsetsFrame(version, ++id, epoch));
                    ListOffsetsResponse rsp = c.receive(ApiKey.LIST_OFFSETS, (short) version, id);
                    ListOffsetsResponse.Partition p = rsp.topics.get(0).partitions.get(0);
                    String what = "ListOffsets v" + version + " current_leader_epoch " + epoch;
                    if (epoch == -1 || epoch == 0) {
                        assertEquals(ErrorCode.NONE.code, p.errorCode, what);
                        assertEquals(5L, p.offset, what);
                        assertEquals(0, p.leaderEpoch, what);
                    } else {
                        assertEquals((epoch > 0 ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH).code,
                            p.errorCode, what);
                        assertEquals(-1L, p.offset, what);
                        assertEquals(-1L, p.timestamp, what);
                        assertEquals(-1, p.leaderEpoch, what);
                    }
                }
            }
        }
    }
}
