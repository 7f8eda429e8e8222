package io.idemlog.server.handler;

import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.message.DeleteRecordsRequest;
import io.idemlog.common.protocol.message.DeleteRecordsResponse;
import io.idemlog.common.protocol.message.FetchRequest;
import io.idemlog.common.protocol.message.FetchResponse;
import io.idemlog.common.protocol.message.ListOffsetsRequest;
import io.idemlog.common.protocol.message.ListOffsetsResponse;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.OffsetForLeaderEpochRequest;
import io.idemlog.common.protocol.message.OffsetForLeaderEpochResponse;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.InMemoryLogStore;
import io.idemlog.server.WireClient;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.PartitionRole;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * NOT_LEADER_OR_FOLLOWER routing and the current_leader_epoch checks (docs/REPLICATION.md sections 4.5, 4.6) with
 * partitions whose role and epoch the test sets ({@link InMemoryLogStore.FakePartition}): Produce, Fetch, ListOffsets,
 * DeleteRecords and OffsetForLeaderEpoch to a FOLLOWER or OFFLINE partition answer NOT_LEADER_OR_FOLLOWER without
 * touching it (its work counter stays put), while the leader partitions of the same request are served; a leader at
 * epoch 5 fences 4 and does not know 6; Metadata reports each partition's epoch and leader.
 */
class LeaderRoutingTest {
    @TempDir
    Path dir;

    private IdemlogServer server;
    private InMemoryLogStore store;

    @BeforeEach
    void start() throws Exception {
        server = IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
            "log.dirs", dir.toString(), "create.topics", "t1:3")), (d, c, l) -> store = new InMemoryLogStore(l));
        for (int p = 0; p < 3; p++) {
            store.fake("t1", p).autoDurable = true;
        }
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private static FetchRequest fetch(int currentEpoch, int... partitions) {
        FetchRequest req = new FetchRequest();
        req.maxWaitMs = 0;
        req.minBytes = 1;
        FetchRequest.Topic t = new FetchRequest.Topic("t1");
        for (int p : partitions) {
            FetchRequest.Partition fp = new FetchRequest.Partition(p, 0L, 1 << 20);
            fp.currentLeaderEpoch = currentEpoch;
            t.partitions.add(fp);
        }
        req.topics.add(t);
        return req;
    }

    private static ListOffsetsRequest listOffsets(int currentEpoch, int... partitions) {
        ListOffsetsRequest req = new ListOffsetsRequest();
        ListOffsetsRequest.Topic t = new ListOffsetsRequest.Topic("t1");
        for (int p : partitions) {
            ListOffsetsRequest.Partition lp = new ListOffsetsRequest.Partition(p, ListOffsetsRequest.LATEST_TIMESTAMP);
            lp.currentLeaderEpoch = currentEpoch;
            t.partitions.add(lp);
        }
        req.topics.add(t);
        return req;
    }

    private static OffsetForLeaderEpochRequest epochs(int currentEpoch, int epoch, int... partitions) {
        OffsetForLeaderEpochRequest req = new OffsetForLeaderEpochRequest();
        req.replicaId = -1;
        OffsetForLeaderEpochRequest.Topic t = new OffsetForLeaderEpochRequest.Topic("t1");
        for (int p : partitions) {
            t.partitions.add(new OffsetForLeaderEpochRequest.Partition(p, currentEpoch, epoch));
        }
        req.topics.add(t);
        return req;
    }

    @Test
    void aPartitionThisNodeDoesNotLeadIsRefusedBeforeAnyWork() throws Exception {
        store.fake("t1", 1).role = PartitionRole.FOLLOWER;
        store.fake("t1", 2).role = PartitionRole.OFFLINE;
        try (WireClient c = new WireClient(server.port())) {
            for (short v : new short[] {3, 8, 9}) {
                ProduceResponse rsp = c.call(ApiKey.PRODUCE, v, ProduceHandlerTest.produce((short) -1, 30_000,
                    0, 1, 2));
                List<ProduceResponse.PartitionResponse> ps = rsp.topics.get(0).partitions;
                assertEquals(ErrorCode.NONE.code, ps.get(0).errorCode, "v" + v);
                for (int p = 1; p <= 2; p++) {
                    assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, ps.get(p).errorCode, "v" + v);
                    assertEquals(-1L, ps.get(p).baseOffset);
                }
            }
            assertEquals(9L, store.fake("t1", 0).logEndOffset(), "the leader partition took every batch");

            for (short v : new short[] {4, 11, 12}) {
                FetchResponse rsp = c.call(ApiKey.FETCH, v, fetch(-1, 0, 1, 2));
                List<FetchResponse.Partition> ps = rsp.topics.get(0).partitions;
                assertEquals(ErrorCode.NONE.code, ps.get(0).errorCode);
                assertEquals(9L, ps.get(0).highWatermark);
                for (int p = 1; p <= 2; p++) {
                    assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, ps.get(p).errorCode, "Fetch v" + v);
                    assertEquals(-1L, ps.get(p).highWatermark);
                    assertEquals(-1L, ps.get(p).logStartOffset);
                }
            }
            for (short v : new short[] {1, 5, 10}) {
                ListOffsetsResponse rsp = c.call(ApiKey.LIST_OFFSETS, v, listOffsets(-1, 0, 1, 2));
                List<ListOffsetsResponse.Partition> ps = rsp.topics.get(0).partitions;
                assertEquals(ErrorCode.NONE.code, ps.get(0).errorCode);
                assertEquals(9L, ps.get(0).offset);
                for (int p = 1; p <= 2; p++) {
                    assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, ps.get(p).errorCode, "ListOffsets v" + v);
                    assertEquals(-1L, ps.get(p).offset);
                }
            }
            for (short v = 0; v <= 4; v++) {
                OffsetForLeaderEpochResponse rsp = c.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, v,
                    epochs(v >= 2 ? 0 : -1, 0, 0, 1, 2));
                List<OffsetForLeaderEpochResponse.Partition> ps = rsp.topics.get(0).partitions;
                assertEquals(ErrorCode.NONE.code, ps.get(0).errorCode);
                assertEquals(9L, ps.get(0).endOffset);
                for (int p = 1; p <= 2; p++) {
                    assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, ps.get(p).errorCode, "OffsetForLeaderEpoch v" + v);
                    assertEquals(-1L, ps.get(p).endOffset);
                }
            }
            for (short v = 0; v <= 2; v++) {
                DeleteRecordsRequest req = new DeleteRecordsRequest();
                DeleteRecordsRequest.Topic t = new DeleteRecordsRequest.Topic("t1");
                for (int p = 0; p < 3; p++) {
                    t.partitions.add(new DeleteRecordsRequest.Partition(p, 0L));
                }
                req.topics.add(t);
                DeleteRecordsResponse rsp = c.call(ApiKey.DELETE_RECORDS, v, req);
                List<DeleteRecordsResponse.Partition> ps = rsp.topics.get(0).partitions;
                assertEquals(ErrorCode.NONE.code, ps.get(0).errorCode);
                for (int p = 1; p <= 2; p++) {
                    assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, ps.get(p).errorCode, "DeleteRecords v" + v);
                    assertEquals(-1L, ps.get(p).lowWatermark);
                }
            }
            assertEquals(0L, store.fake("t1", 1).work.get(), "the follower partition was never touched");
            assertEquals(0L, store.fake("t1", 2).work.get(), "the offline partition was never touched");

            // control: the same partition once it leads is served by every API
            store.fake("t1", 1).role = PartitionRole.LEADER;
            assertEquals(ErrorCode.NONE.code, ((ProduceResponse) c.call(ApiKey.PRODUCE, (short) 9,
                ProduceHandlerTest.produce((short) -1, 30_000, 1))).topics.get(0).partitions.get(0).errorCode);
            assertEquals(ErrorCode.NONE.code, ((FetchResponse) c.call(ApiKey.FETCH, (short) 12, fetch(-1, 1)))
                .topics.get(0).partitions.get(0).errorCode);
            assertEquals(3L, store.fake("t1", 1).logEndOffset());
        }
    }

    /** acks=all, one idempotent batch of 3 records of producer 7 epoch 0 at {@code sequence} for t1-1. */
    private static ProduceRequest idempotent(int sequence) {
        MemoryRecords records = ProduceHandlerTest.batch(3);
        new io.idemlog.common.record.RecordBatch(records.buffer(), records.buffer().position())
            .stampProducerState(7, (short) 0, sequence);
        ProduceRequest req = new ProduceRequest();
        req.acks = -1;
        req.timeoutMs = 30_000;
        ProduceRequest.TopicData td = new ProduceRequest.TopicData("t1");
        td.partitions.add(new ProduceRequest.PartitionData(1, records));
        req.topics.add(td);
        return req;
    }

    private static short produceError(WireClient c, ProduceRequest req) throws Exception {
        return ((ProduceResponse) c.call(ApiKey.PRODUCE, (short) 9, req)).topics.get(0).partitions.get(0).errorCode;
    }

    /**
     * A batch refused NOT_LEADER_OR_FOLLOWER (or NOT_ENOUGH_REPLICAS) holds back the later batches of the same
     * producer for that partition on that connection, even once the partition leads, until the refused one is
     * re-sent: otherwise a later batch of a producer the leader does not know yet is appended first (any sequence is
     * accepted from an unknown producer) and the refused one can never follow it (ClusterRecordDeletionTest,
     * 2026-12-07). Control: another connection, which was refused nothing, is not held back.
     */
    @Test
    void aLaterBatchOfAProducerWaitsBehindItsRefusedBatchOnTheSameConnection() throws Exception {
        InMemoryLogStore.FakePartition p = store.fake("t1", 1);
        try (WireClient c = new WireClient(server.port()); WireClient other = new WireClient(server.port())) {
            p.role = PartitionRole.FOLLOWER;
            assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, produceError(c, idempotent(0)));
            p.role = PartitionRole.LEADER; // the leader became ready between two pipelined requests
            assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, produceError(c, idempotent(3)),
                "the batch behind the refused one is refused too");
            assertEquals(0L, p.logEndOffset(), "nothing appended ahead of the refused batch");
            assertEquals(ErrorCode.NONE.code, produceError(c, idempotent(0)), "the retry of the refused batch");
            assertEquals(ErrorCode.NONE.code, produceError(c, idempotent(3)), "then the next one, in order");
            assertEquals(6L, p.logEndOffset());

            // min.insync.replicas refusing, then satisfied again: the same
            p.notEnoughReplicas = "the in-sync replicas of t1-1 are 1, fewer than 2";
            assertEquals(ErrorCode.NOT_ENOUGH_REPLICAS.code, produceError(c, idempotent(6)));
            p.notEnoughReplicas = null;
            assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, produceError(c, idempotent(9)));
            assertEquals(6L, p.logEndOffset());

            // control: a connection that was refused nothing appends the same later batch at once
            assertEquals(ErrorCode.NONE.code, produceError(other, idempotent(9)));
            assertEquals(9L, p.logEndOffset());
        }
    }

    @Test
    void acksAllIsRefusedNotEnoughReplicasWhileTooFewAreInSyncAndNothingIsAppended() throws Exception {
        store.fake("t1", 1).notEnoughReplicas = "the in-sync replicas of t1-1 are 2, fewer than 3";
        try (WireClient c = new WireClient(server.port())) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, ProduceHandlerTest.produce((short) -1, 30_000,
                0, 1));
            List<ProduceResponse.PartitionResponse> ps = rsp.topics.get(0).partitions;
            assertEquals(ErrorCode.NONE.code, ps.get(0).errorCode);
            assertEquals(ErrorCode.NOT_ENOUGH_REPLICAS.code, ps.get(1).errorCode);
            assertEquals(-1L, ps.get(1).baseOffset);
            assertEquals("the in-sync replicas of t1-1 are 2, fewer than 3", ps.get(1).errorMessage);
            assertEquals(0L, store.fake("t1", 1).logEndOffset(), "nothing appended to the refused partition");
            // acks=1 is not held to min.insync.replicas (as in Kafka)
            ProduceResponse one = c.call(ApiKey.PRODUCE, (short) 9, ProduceHandlerTest.produce((short) 1, 30_000,
                1));
            assertEquals(ErrorCode.NONE.code, one.topics.get(0).partitions.get(0).errorCode);
            // control: enough replicas again, acks=all is appended
            store.fake("t1", 1).notEnoughReplicas = null;
            ProduceResponse again = c.call(ApiKey.PRODUCE, (short) 9, ProduceHandlerTest.produce((short) -1, 30_000,
                1));
            assertEquals(ErrorCode.NONE.code, again.topics.get(0).partitions.get(0).errorCode);
            assertEquals(6L, store.fake("t1", 1).logEndOffset());
        }
    }

    @Test
    void theCurrentLeaderEpochIsCheckedAgainstThePartitionsEpoch() throws Exception {
        store.fake("t1", 0).leaderEpoch = 5;
        try (WireClient c = new WireClient(server.port())) {
            c.call(ApiKey.PRODUCE, (short) 9, ProduceHandlerTest.produce((short) -1, 30_000, 0));
            long work = store.fake("t1", 0).work.get();
            int[][] cases = {{4, ErrorCode.FENCED_LEADER_EPOCH.code}, {0, ErrorCode.FENCED_LEADER_EPOCH.code},
                {6, ErrorCode.UNKNOWN_LEADER_EPOCH.code}, {Integer.MAX_VALUE, ErrorCode.UNKNOWN_LEADER_EPOCH.code}};
            for (int[] k : cases) {
                FetchResponse f = c.call(ApiKey.FETCH, (short) 12, fetch(k[0], 0));
                assertEquals(k[1], f.topics.get(0).partitions.get(0).errorCode, "Fetch epoch " + k[0]);
                ListOffsetsResponse l = c.call(ApiKey.LIST_OFFSETS, (short) 7, listOffsets(k[0], 0));
                assertEquals(k[1], l.topics.get(0).partitions.get(0).errorCode, "ListOffsets epoch " + k[0]);
                assertEquals(-1L, l.topics.get(0).partitions.get(0).offset);
                OffsetForLeaderEpochResponse e = c.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, (short) 4,
                    epochs(k[0], 5, 0));
                assertEquals(k[1], e.topics.get(0).partitions.get(0).errorCode, "OffsetForLeaderEpoch " + k[0]);
            }
            assertEquals(work, store.fake("t1", 0).work.get(), "refused before any read");
            for (int current : new int[] {-1, 5}) {
                FetchResponse f = c.call(ApiKey.FETCH, (short) 12, fetch(current, 0));
                assertEquals(ErrorCode.NONE.code, f.topics.get(0).partitions.get(0).errorCode);
                ListOffsetsResponse l = c.call(ApiKey.LIST_OFFSETS, (short) 7, listOffsets(current, 0));
                assertEquals(3L, l.topics.get(0).partitions.get(0).offset);
                assertEquals(5, l.topics.get(0).partitions.get(0).leaderEpoch);
                OffsetForLeaderEpochResponse e = c.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, (short) 4,
                    epochs(current, 5, 0));
                assertEquals(5, e.topics.get(0).partitions.get(0).leaderEpoch);
                assertEquals(3L, e.topics.get(0).partitions.get(0).endOffset);
            }
            // below v9 Fetch has no current_leader_epoch, below v4 ListOffsets neither: no check
            assertEquals(ErrorCode.NONE.code, ((FetchResponse) c.call(ApiKey.FETCH, (short) 8, fetch(4, 0)))
                .topics.get(0).partitions.get(0).errorCode);
            assertEquals(ErrorCode.NONE.code, ((ListOffsetsResponse) c.call(ApiKey.LIST_OFFSETS, (short) 3,
                listOffsets(4, 0))).topics.get(0).partitions.get(0).errorCode);
        }
    }

    @Test
    void metadataReportsEachPartitionsEpochAndLeader() throws Exception {
        store.fake("t1", 1).leaderEpoch = 7;
        store.fake("t1", 2).leaderId = 42;
        try (WireClient c = new WireClient(server.port())) {
            MetadataRequest req = new MetadataRequest();
            req.topics = List.of("t1");
            MetadataResponse rsp = c.call(ApiKey.METADATA, (short) 12, req);
            List<MetadataResponse.Partition> ps = rsp.topics.get(0).partitions;
            int node = server.config().nodeId;
            assertEquals(0, ps.get(0).leaderEpoch);
            assertEquals(node, ps.get(0).leaderId);
            assertEquals(7, ps.get(1).leaderEpoch);
            assertEquals(42, ps.get(2).leaderId);
        }
    }

    /**
     * Fetch v12's last_fetched_epoch (KIP-595): a partition at epoch 5 whose epoch 3 ended at 0 (the fake's cache:
     * one epoch 5 from offset 0) answers a fetcher at offset 2 of epoch 3 with diverging_epoch (3, 0) and no
     * records, at once; epoch 5 at offset 2 (log end 3) is served; an epoch above every known one, and a fetch
     * offset below the log start, OFFSET_OUT_OF_RANGE; below v12 (no such field) nothing is checked.
     */
    @Test
    void fetchChecksTheLastFetchedEpochForDivergence() throws Exception {
        store.fake("t1", 0).leaderEpoch = 5;
        try (WireClient c = new WireClient(server.port())) {
            c.call(ApiKey.PRODUCE, (short) 9, ProduceHandlerTest.produce((short) -1, 30_000, 0));
            FetchRequest req = fetch(5, 0);
            req.maxWaitMs = 10_000; // a diverging answer must not wait for min_bytes
            req.minBytes = 1 << 20;
            FetchRequest.Partition fp = req.topics.get(0).partitions.get(0);
            fp.fetchOffset = 2L;
            fp.lastFetchedEpoch = 3;
            long t0 = System.nanoTime();
            FetchResponse.Partition p = ((FetchResponse) c.call(ApiKey.FETCH, (short) 12, req))
                .topics.get(0).partitions.get(0);
            assertEquals(ErrorCode.NONE.code, p.errorCode);
            java.nio.ByteBuffer diverging = java.nio.ByteBuffer.wrap(p.taggedFields.get(
                FetchHandler.DIVERGING_EPOCH_TAG));
            assertEquals(3, diverging.getInt(), "the epoch answered");
            assertEquals(0L, diverging.getLong(), "where it ends");
            assertEquals(0, diverging.get(), "no tags of its own");
            assertEquals(3L, p.highWatermark);
            assertEquals(0, p.records.sizeInBytes());
            org.junit.jupiter.api.Assertions.assertTrue(System.nanoTime() - t0 < 5_000_000_000L,
                "answered at once, not after max_wait_ms");

            req.maxWaitMs = 0;
            req.minBytes = 1;
            fp.lastFetchedEpoch = 5;
            p = ((FetchResponse) c.call(ApiKey.FETCH, (short) 12, req)).topics.get(0).partitions.get(0);
            assertEquals(ErrorCode.NONE.code, p.errorCode);
            org.junit.jupiter.api.Assertions.assertNull(p.taggedFields, "no divergence within the epoch");

            fp.lastFetchedEpoch = 6;
            p = ((FetchResponse) c.call(ApiKey.FETCH, (short) 12, req)).topics.get(0).partitions.get(0);
            assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code, p.errorCode, "an unknown epoch");

            fp.lastFetchedEpoch = 3;
            p = ((FetchResponse) c.call(ApiKey.FETCH, (short) 11, req)).topics.get(0).partitions.get(0);
            assertEquals(ErrorCode.NONE.code, p.errorCode, "v11 has no last_fetched_epoch");
            org.junit.jupiter.api.Assertions.assertNull(p.taggedFields);
        }
    }
}
