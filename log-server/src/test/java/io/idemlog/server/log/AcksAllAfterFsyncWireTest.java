package io.idemlog.server.log;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.WireClient;
import io.idemlog.server.config.ServerConfig;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * acks=all over the wire with the real storage, for each log.flush.thread value: while the fsync that covers a
 * batch is held (a fault-injecting {@link StorageIo} blocks in force), its answer does not leave; once the fsync
 * returns, it does. A server that answered after the append, before the fsync (the mutant this guards against),
 * would answer while the fsync is held.
 */
class AcksAllAfterFsyncWireTest {
    @TempDir
    Path dir;

    private IdemlogServer server;
    private final FaultyIo io = new FaultyIo();
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger heldForces = new AtomicInteger();
    private volatile boolean hold;

    @AfterEach
    void stop() throws IOException {
        hold = false;
        release.countDown();
        if (server != null) {
            server.close();
        }
    }

    private static ProduceRequest produce(int firstValue) {
        ByteBuffer buf = ByteBuffer.allocate(1024);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < 3; i++) {
            assertTrue(b.tryAppend(1000 + i, null, ("v" + (firstValue + i)).getBytes(), null));
        }
        ProduceRequest req = new ProduceRequest();
        req.acks = -1;
        req.timeoutMs = 30_000;
        ProduceRequest.TopicData td = new ProduceRequest.TopicData("t1");
        td.partitions.add(new ProduceRequest.PartitionData(0, new MemoryRecords(buf.limit(b.close()))));
        req.topics.add(td);
        return req;
    }

    @ParameterizedTest
    @ValueSource(strings = {"network", "flusher", "auto"})
    void anAcksAllAnswerLeavesOnlyAfterTheFsyncCoveringItsBatch(String flushThread) throws Exception {
        io.beforeForce = () -> {
            if (hold) {
                heldForces.incrementAndGet();
                try {
                    assertTrue(release.await(30, TimeUnit.SECONDS), "the test never released the fsync");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        server = IdemlogServer.start(ServerConfig.of(Map.of(
                "listeners", "PLAINTEXT://127.0.0.1:0",
                "log.dirs", dir.toString(),
                "create.topics", "t1:1",
                "log.flush.thread", flushThread)),
            (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l, io, LogManager.Threads.BACKGROUND));
        try (WireClient c = new WireClient(server.port())) {
            // The partition's first batch also writes its leader epoch file: not held, so that what is held
            // below is the commit's fsync alone.
            ProduceResponse first = c.call(ApiKey.PRODUCE, (short) 9, produce(0));
            assertEquals(ErrorCode.NONE.code, first.topics.get(0).partitions.get(0).errorCode);
            hold = true;
            int id = c.send(ApiKey.PRODUCE, (short) 9, produce(3));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (heldForces.get() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // bounded poll for the commit's fsync to start
            }
            assertTrue(heldForces.get() > 0, "the batch's commit reached its fsync");
            assertTrue(c.silentFor(300), "no answer while the fsync covering the batch is held");
            int forcesBefore = io.forces;
            hold = false;
            release.countDown();
            ProduceResponse rsp = c.receive(ApiKey.PRODUCE, (short) 9, id);
            ProduceResponse.PartitionResponse pr = rsp.topics.get(0).partitions.get(0);
            assertEquals(ErrorCode.NONE.code, pr.errorCode);
            assertEquals(3L, pr.baseOffset);
            assertTrue(io.forces > forcesBefore, "answered after the held fsync completed");
        }
    }
}
