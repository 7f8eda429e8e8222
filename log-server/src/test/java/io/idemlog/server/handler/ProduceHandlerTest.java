package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.InMemoryLogStore;
import io.idemlog.server.WireClient;
import io.idemlog.server.config.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ProduceHandler's answers for acks=all when durability fails, and the log.flush.thread wiring, with storage
 * replaced by {@link InMemoryLogStore} (durability under the test's control).
 */
class ProduceHandlerTest {
    @TempDir
    Path dir;

    private IdemlogServer server;
    private InMemoryLogStore store;

    private void start(Map<String, String> extra) throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("create.topics", "t1:3");
        props.putAll(extra);
        server = IdemlogServer.start(ServerConfig.of(props), (d, c, l) -> store = new InMemoryLogStore(l));
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    static MemoryRecords batch(int records) {
        ByteBuffer buf = ByteBuffer.allocate(1024);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < records; i++) {
            assertTrue(b.tryAppend(1000 + i, null, ("v" + i).getBytes(), null));
        }
        return new MemoryRecords(buf.limit(b.close()));
    }

    static ProduceRequest produce(short acks, int timeoutMs, int... partitions) {
        ProduceRequest req = new ProduceRequest();
        req.acks = acks;
        req.timeoutMs = timeoutMs;
        ProduceRequest.TopicData td = new ProduceRequest.TopicData("t1");
        for (int p : partitions) {
            td.partitions.add(new ProduceRequest.PartitionData(p, batch(3)));
        }
        req.topics.add(td);
        return req;
    }

    @Test
    void shouldAnswerStorageErrorWhenDurabilityFailsInline() throws Exception {
        start(Map.of());
        store.fake("t1", 1).durabilityMode = InMemoryLogStore.DurabilityMode.FAIL_INLINE;
        store.fake("t1", 0).autoDurable = true;
        store.fake("t1", 2).autoDurable = true;
        try (WireClient c = new WireClient(server.port())) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) -1, 30_000, 0, 1, 2));
            assertStorageErrorOnPartitionOne(rsp);
        }
    }

    @Test
    void shouldAnswerStorageErrorWhenDurabilityFailsOnAnotherThread() throws Exception {
        start(Map.of());
        store.fake("t1", 1).durabilityMode = InMemoryLogStore.DurabilityMode.FAIL_OTHER_THREAD;
        store.fake("t1", 0).autoDurable = true;
        store.fake("t1", 2).autoDurable = true;
        try (WireClient c = new WireClient(server.port())) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) -1, 30_000, 0, 1, 2));
            assertStorageErrorOnPartitionOne(rsp);
        }
    }

    private static void assertStorageErrorOnPartitionOne(ProduceResponse rsp) {
        ProduceResponse.PartitionResponse p0 = rsp.topics.get(0).partitions.get(0);
        ProduceResponse.PartitionResponse p1 = rsp.topics.get(0).partitions.get(1);
        ProduceResponse.PartitionResponse p2 = rsp.topics.get(0).partitions.get(2);
        assertEquals(ErrorCode.NONE.code, p0.errorCode);
        assertEquals(0L, p0.baseOffset);
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code, p1.errorCode, "never NONE for a batch that is not durable");
        assertEquals(-1L, p1.baseOffset);
        assertNotNull(p1.errorMessage);
        assertEquals(ErrorCode.NONE.code, p2.errorCode);
        assertEquals(0L, p2.baseOffset);
    }

    @Test
    void shouldFlushOnTheNetworkThreadOncePerReadBurstWithLogFlushThreadNetwork() throws Exception {
        start(Map.of("log.flush.thread", "network"));
        InMemoryLogStore.FakePartition p = store.fake("t1", 0);
        p.durableOnFlush = true;
        try (WireClient c = new WireClient(server.port())) {
            // Nothing but the network thread's flushNow makes the batch durable here: without it the answer would
            // be REQUEST_TIMED_OUT after 30 s.
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) -1, 30_000, 0));
            assertEquals(ErrorCode.NONE.code, rsp.topics.get(0).partitions.get(0).errorCode);
            assertEquals(1L, p.flushNowCalls.get());
        }
    }

    @Test
    void shouldLeaveTheFsyncToTheFlusherWithLogFlushThreadFlusher() throws Exception {
        start(Map.of("log.flush.thread", "flusher"));
        InMemoryLogStore.FakePartition p = store.fake("t1", 0);
        p.durableOnFlush = true;
        try (WireClient c = new WireClient(server.port())) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) -1, 200, 0));
            assertEquals(ErrorCode.REQUEST_TIMED_OUT.code, rsp.topics.get(0).partitions.get(0).errorCode,
                "no flusher in the test double, so nothing makes it durable");
            assertEquals(0L, p.flushNowCalls.get());
            assertEquals(1L, p.wakeFlusherCalls.get(), "the flusher woken at the end of the read burst");
        }
    }

    /**
     * log.flush.thread=flusher: the network thread wakes the flusher once per partition per read burst, after
     * appending every pipelined request of it, not once per batch (and never fsyncs itself).
     */
    @Test
    void shouldWakeTheFlusherOncePerPartitionPerReadBurst() throws Exception {
        start(Map.of("log.flush.thread", "flusher", "produce.non.idempotent.one.at.a.time", "false"));
        InMemoryLogStore.FakePartition p0 = store.fake("t1", 0);
        InMemoryLogStore.FakePartition p1 = store.fake("t1", 1);
        try (WireClient c = new WireClient(server.port())) {
            // Three requests in one write: one socket read on the server (64 KiB of receive buffer is plenty).
            java.io.ByteArrayOutputStream frames = new java.io.ByteArrayOutputStream();
            int[] ids = {101, 102, 103};
            for (int id : ids) {
                byte[] body = WireClient.encode(ApiKey.PRODUCE, (short) 9, id, produce((short) -1, 30_000, 0, 1));
                frames.write(ByteBuffer.allocate(4).putInt(body.length).array());
                frames.write(body);
            }
            c.sendBytes(frames.toByteArray());
            assertTrue(c.silentFor(300), "nothing answered before durable");
            p0.makeDurable();
            p1.makeDurable();
            for (int id : ids) {
                ProduceResponse rsp = c.receive(ApiKey.PRODUCE, (short) 9, id);
                assertEquals(ErrorCode.NONE.code, rsp.topics.get(0).partitions.get(0).errorCode);
            }
            assertEquals(1L, p0.wakeFlusherCalls.get(), "one wake for the burst's three batches");
            assertEquals(1L, p1.wakeFlusherCalls.get());
            assertEquals(0L, p0.flushNowCalls.get() + p1.flushNowCalls.get());
        }
    }

    /**
     * log.flush.thread=auto: a read burst that appended to one partition fsyncs it on the network thread (nothing
     * else makes it durable here: no flusher in the test double); one that appended to two hands both to the
     * flusher, once each, and fsyncs neither itself.
     */
    @Test
    void shouldFlushInlineForOnePartitionAndWakeTheFlusherForMoreWithLogFlushThreadAuto() throws Exception {
        start(Map.of("produce.non.idempotent.one.at.a.time", "false")); // auto is the default
        InMemoryLogStore.FakePartition p0 = store.fake("t1", 0);
        InMemoryLogStore.FakePartition p1 = store.fake("t1", 1);
        p0.durableOnFlush = true;
        p1.durableOnFlush = true;
        try (WireClient c = new WireClient(server.port())) {
            ProduceResponse one = c.call(ApiKey.PRODUCE, (short) 9, produce((short) -1, 30_000, 0));
            assertEquals(ErrorCode.NONE.code, one.topics.get(0).partitions.get(0).errorCode);
            assertEquals(1L, p0.flushNowCalls.get(), "one partition: fsynced on the network thread");
            assertEquals(0L, p0.wakeFlusherCalls.get());

            // Two requests of partitions 0 and 1 in one write: one read burst that appended to two partitions.
            java.io.ByteArrayOutputStream frames = new java.io.ByteArrayOutputStream();
            int[] ids = {201, 202};
            for (int id : ids) {
                byte[] body = WireClient.encode(ApiKey.PRODUCE, (short) 9, id, produce((short) -1, 30_000, 0, 1));
                frames.write(ByteBuffer.allocate(4).putInt(body.length).array());
                frames.write(body);
            }
            c.sendBytes(frames.toByteArray());
            awaitWakes(p0, 1);
            awaitWakes(p1, 1);
            assertTrue(c.silentFor(100), "not fsynced inline, so nothing answered before durable");
            assertEquals(1L, p0.wakeFlusherCalls.get(), "two partitions: the flusher woken once for each");
            assertEquals(1L, p1.wakeFlusherCalls.get());
            assertEquals(1L, p0.flushNowCalls.get(), "no further inline fsync");
            assertEquals(0L, p1.flushNowCalls.get());
            p0.makeDurable();
            p1.makeDurable();
            for (int id : ids) {
                ProduceResponse rsp = c.receive(ApiKey.PRODUCE, (short) 9, id);
                assertEquals(ErrorCode.NONE.code, rsp.topics.get(0).partitions.get(0).errorCode);
                assertEquals(ErrorCode.NONE.code, rsp.topics.get(0).partitions.get(1).errorCode);
            }
        }
    }

    @Test
    void shouldNotFlushForAcksOne() throws Exception {
        start(Map.of("log.flush.thread", "network"));
        InMemoryLogStore.FakePartition p = store.fake("t1", 0);
        try (WireClient c = new WireClient(server.port())) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) 1, 30_000, 0));
            assertEquals(ErrorCode.NONE.code, rsp.topics.get(0).partitions.get(0).errorCode);
            assertEquals(0L, p.flushNowCalls.get());
        }
    }

    @Test
    void anAsynchronousPartitionIsAnsweredOnlyOnceItsAppendCompletesForAcksOneAndAll() throws Exception {
        start(Map.of());
        InMemoryLogStore.FakePartition p0 = store.fake("t1", 0);
        InMemoryLogStore.FakePartition p1 = store.fake("t1", 1);
        p0.asyncAppends = true;
        p1.asyncAppends = true;
        p1.asyncError = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        store.fake("t1", 2).autoDurable = true; // a synchronous partition in the same request
        for (short acks : new short[] {1, -1}) {
            try (WireClient c = new WireClient(server.port())) {
                int id = c.send(ApiKey.PRODUCE, (short) 9, produce(acks, 30_000, 0, 1, 2));
                awaitPending(p0, 1);
                awaitPending(p1, 1);
                assertTrue(c.silentFor(200), "acks=" + acks + ": no answer before the replicated appends complete");
                p1.completeAppends();
                assertTrue(c.silentFor(100), "acks=" + acks + ": still waiting for partition 0");
                p0.completeAppends();
                ProduceResponse rsp = c.receive(ApiKey.PRODUCE, (short) 9, id);
                ProduceResponse.PartitionResponse r0 = rsp.topics.get(0).partitions.get(0);
                ProduceResponse.PartitionResponse r1 = rsp.topics.get(0).partitions.get(1);
                ProduceResponse.PartitionResponse r2 = rsp.topics.get(0).partitions.get(2);
                assertEquals(ErrorCode.NONE.code, r0.errorCode);
                assertEquals(acks == 1 ? 0L : 3L, r0.baseOffset, "the offset apply assigned");
                assertEquals(ErrorCode.NOT_LEADER_OR_FOLLOWER.code, r1.errorCode);
                assertEquals(-1L, r1.baseOffset);
                assertEquals("injected", r1.errorMessage);
                assertEquals(ErrorCode.NONE.code, r2.errorCode);
            }
        }
    }

    @Test
    void anAsynchronousAppendNotAnsweredInTimeIsRequestTimedOut() throws Exception {
        start(Map.of());
        InMemoryLogStore.FakePartition p0 = store.fake("t1", 0);
        p0.asyncAppends = true;
        try (WireClient c = new WireClient(server.port())) {
            ProduceResponse rsp = c.call(ApiKey.PRODUCE, (short) 9, produce((short) 1, 200, 0));
            assertEquals(ErrorCode.REQUEST_TIMED_OUT.code, rsp.topics.get(0).partitions.get(0).errorCode);
            p0.completeAppends(); // a late answer changes nothing (and is not sent twice)
            assertTrue(c.silentFor(100));
        }
    }

    /**
     * The network thread decodes every Produce request into the same reused objects (ProduceRequest.readInto):
     * three pipelined requests of one read burst, of other topics, partition counts, orders and record counts,
     * some partitions appended asynchronously (answered after the later requests were decoded), must each be
     * answered for their own topics and partitions, and each append must have got its own batch (the offsets count
     * the records each one carried).
     */
    @Test
    void pipelinedRequestsDecodedIntoTheReusedRequestAreAnsweredEachForItsOwnPartitions() throws Exception {
        start(Map.of("create.topics", "t1:3, t2:2", "produce.non.idempotent.one.at.a.time", "false"));
        for (int p = 0; p < 3; p++) {
            store.fake("t1", p).autoDurable = true;
        }
        store.fake("t2", 0).autoDurable = true;
        store.fake("t2", 1).autoDurable = true;
        InMemoryLogStore.FakePartition async = store.fake("t1", 1);
        async.asyncAppends = true;

        ProduceRequest a = produce((short) -1, 30_000, 0, 1, 2); // t1: 0, 1, 2; 3 records each
        ProduceRequest b = new ProduceRequest();
        b.acks = -1;
        b.timeoutMs = 30_000;
        ProduceRequest.TopicData t2 = new ProduceRequest.TopicData("t2");
        t2.partitions.add(new ProduceRequest.PartitionData(1, batch(5)));
        ProduceRequest.TopicData t1 = new ProduceRequest.TopicData("t1");
        t1.partitions.add(new ProduceRequest.PartitionData(1, batch(4)));
        t1.partitions.add(new ProduceRequest.PartitionData(0, batch(2)));
        b.topics.add(t2);
        b.topics.add(t1);
        ProduceRequest c = new ProduceRequest();
        c.acks = 1;
        c.timeoutMs = 30_000;
        ProduceRequest.TopicData only = new ProduceRequest.TopicData("t1");
        only.partitions.add(new ProduceRequest.PartitionData(2, batch(1)));
        c.topics.add(only);

        try (WireClient client = new WireClient(server.port())) {
            java.io.ByteArrayOutputStream frames = new java.io.ByteArrayOutputStream();
            ProduceRequest[] requests = {a, b, c};
            for (int i = 0; i < requests.length; i++) {
                byte[] body = WireClient.encode(ApiKey.PRODUCE, (short) 9, 201 + i, requests[i]);
                frames.write(ByteBuffer.allocate(4).putInt(body.length).array());
                frames.write(body);
            }
            client.sendBytes(frames.toByteArray()); // one write: one read burst on one network thread
            awaitPending(async, 2);
            assertTrue(client.silentFor(200), "a and b wait for t1-1's asynchronous appends; c waits behind them");
            async.completeAppends();

            ProduceResponse ra = client.receive(ApiKey.PRODUCE, (short) 9, 201);
            assertEquals(1, ra.topics.size());
            assertPartitions(ra.topics.get(0), "t1", new int[] {0, 1, 2}, new long[] {0L, 0L, 0L});

            ProduceResponse rb = client.receive(ApiKey.PRODUCE, (short) 9, 202);
            assertEquals(2, rb.topics.size());
            assertPartitions(rb.topics.get(0), "t2", new int[] {1}, new long[] {0L});
            assertPartitions(rb.topics.get(1), "t1", new int[] {1, 0}, new long[] {3L, 3L});

            ProduceResponse rc = client.receive(ApiKey.PRODUCE, (short) 9, 203);
            assertEquals(1, rc.topics.size());
            assertPartitions(rc.topics.get(0), "t1", new int[] {2}, new long[] {3L});
        }
        // Each append got its own batch: the log end offsets count the records of each request's batches.
        assertEquals(5L, store.fake("t1", 0).logEndOffset()); // a: 3, b: 2
        assertEquals(7L, store.fake("t1", 1).logEndOffset()); // a: 3, b: 4 (both asynchronous)
        assertEquals(4L, store.fake("t1", 2).logEndOffset()); // a: 3, c: 1
        assertEquals(5L, store.fake("t2", 1).logEndOffset()); // b: 5
        assertEquals(0L, store.fake("t2", 0).logEndOffset());
    }

    private static void assertPartitions(ProduceResponse.TopicResponse topic, String name, int[] indexes,
                                         long[] baseOffsets) {
        assertEquals(name, topic.name);
        assertEquals(indexes.length, topic.partitions.size(), name);
        for (int i = 0; i < indexes.length; i++) {
            ProduceResponse.PartitionResponse pr = topic.partitions.get(i);
            assertEquals(indexes[i], pr.index, name);
            assertEquals(ErrorCode.NONE.code, pr.errorCode, name + "-" + pr.index + ": " + pr.errorMessage);
            assertEquals(baseOffsets[i], pr.baseOffset, name + "-" + pr.index);
        }
    }

    private static void awaitPending(InMemoryLogStore.FakePartition p, int n) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (p.pendingAppends() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the append never reached the partition");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L); // a poll interval
        }
    }

    /** Waits (bounded) until the end of a read burst has woken the flusher {@code n} times for {@code p}. */
    private static void awaitWakes(InMemoryLogStore.FakePartition p, int n) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (p.wakeFlusherCalls.get() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the read burst's end never woke the flusher");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L); // a poll interval
        }
    }
}
