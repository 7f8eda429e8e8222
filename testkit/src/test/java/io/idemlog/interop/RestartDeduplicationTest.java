package io.idemlog.interop;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.InitProducerIdRequest;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.ServerProcess;
import io.idemlog.testkit.WireConnection;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Producer state survives restarts: a batch acknowledged before a clean restart, and before a SIGKILL, is still
 * recognised when re-sent afterwards and answered with its ORIGINAL offset — for each of the producer's last five
 * batches, not only the last one (Kafka's snapshot keeps one) — and nothing is appended twice.
 */
@Tag("slow")
class RestartDeduplicationTest {
    private static final String TOPIC = "restart";

    @TempDir
    Path dir;

    private static byte[] batch(long producerId, int baseSequence, int records) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < records; i++) {
            b.tryAppend(System.currentTimeMillis(), null, ("seq-" + (baseSequence + i)).getBytes(), null);
        }
        int size = b.close();
        new RecordBatch(buf, 0).stampProducerState(producerId, (short) 0, baseSequence);
        byte[] bytes = new byte[size];
        buf.get(0, bytes);
        return bytes;
    }

    private static ProduceResponse.PartitionResponse produce(ServerProcess server, byte[] batch) throws IOException {
        try (WireConnection c = WireConnection.connect(server.address(), Duration.ofSeconds(10))) {
            ProduceRequest req = new ProduceRequest();
            req.acks = -1;
            req.timeoutMs = 30_000;
            ProduceRequest.TopicData t = new ProduceRequest.TopicData(TOPIC);
            t.partitions.add(new ProduceRequest.PartitionData(0, new MemoryRecords(ByteBuffer.wrap(batch.clone()))));
            req.topics.add(t);
            short v = c.version(ApiKey.PRODUCE, (short) 9);
            return c.request(ApiKey.PRODUCE, v, req, ProduceResponse::read).topics.get(0).partitions.get(0);
        }
    }

    private static long producerId(ServerProcess server) throws IOException {
        try (WireConnection c = WireConnection.connect(server.address(), Duration.ofSeconds(10))) {
            InitProducerIdResponse rsp = c.request(ApiKey.INIT_PRODUCER_ID,
                c.version(ApiKey.INIT_PRODUCER_ID, (short) 2), new InitProducerIdRequest(), InitProducerIdResponse::read);
            assertEquals(0, rsp.errorCode);
            return rsp.producerId;
        }
    }

    private static long records(ServerProcess server) throws IOException {
        try (LogReader reader = new LogReader(server.address())) {
            return reader.readAll(TOPIC, r -> { });
        }
    }

    @Test
    void aResentBatchIsStillAnsweredWithItsOriginalOffsetAfterACleanRestartAndAfterSigkill() throws IOException {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", TOPIC + ":1")
            .logFile(dir.resolve("server.log"))
            .start()) {
            long pid = producerId(server);
            List<byte[]> sent = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            int seq = 0;
            for (int i = 0; i < 5; i++) {
                byte[] b = batch(pid, seq, 3);
                seq += 3;
                ProduceResponse.PartitionResponse r = produce(server, b);
                assertEquals(0, r.errorCode);
                sent.add(b);
                offsets.add(r.baseOffset);
            }
            assertEquals(15, records(server));

            assertEquals(true, server.stop(), "clean shutdown on SIGTERM");
            server.start();
            assertNotEquals(pid, producerId(server), "a producer id is never handed out twice");
            for (int i = 0; i < 5; i++) {
                ProduceResponse.PartitionResponse r = produce(server, sent.get(i));
                assertEquals(ErrorCode.NONE.code, r.errorCode, "batch " + i + " after a clean restart");
                assertEquals(offsets.get(i), r.baseOffset, "batch " + i + " keeps its original offset");
            }
            assertEquals(15, records(server), "nothing appended twice");

            // One more batch, then SIGKILL: this one is only in the log (no snapshot at a crash).
            byte[] sixth = batch(pid, seq, 2);
            ProduceResponse.PartitionResponse r6 = produce(server, sixth);
            assertEquals(0, r6.errorCode);
            server.kill();
            server.start();
            ProduceResponse.PartitionResponse again = produce(server, sixth);
            assertEquals(ErrorCode.NONE.code, again.errorCode);
            assertEquals(r6.baseOffset, again.baseOffset, "the batch written just before SIGKILL is a duplicate");
            for (int i = 1; i < 5; i++) {
                ProduceResponse.PartitionResponse r = produce(server, sent.get(i));
                assertEquals(offsets.get(i), r.baseOffset, "batch " + i + " after SIGKILL");
            }
            // The first batch is now six batches back: out of the window, yet in the log, so still a duplicate
            // with its original offset (KAFKA-9199: PartitionApplier looks a retry older than the window up).
            ProduceResponse.PartitionResponse first = produce(server, sent.get(0));
            assertEquals(ErrorCode.NONE.code, first.errorCode);
            assertEquals(offsets.get(0), first.baseOffset, "six batches back, found in the log");
            assertEquals(17, records(server), "nothing appended twice");
            assertNotEquals(pid, producerId(server));
        }
    }
}
