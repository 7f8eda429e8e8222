package io.idemlog.bench.protocol;

import io.idemlog.bench.Batches;
import io.idemlog.bench.BufferKind;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ProduceRequest;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * {@link ProduceRequest#read} of the request body a producer sends: acks=-1, one topic, {@code partitions}
 * partitions each carrying one full 16 KiB batch (batch.size's default) of 100-byte values, stamped with producer
 * state. The records are framed, not copied, so the cost should follow the partition count, not the bytes.
 * {@link #read} decodes a new request tree; {@link #readInto} decodes into one reused request (the server's
 * ProduceHandler). One operation = one request.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ProduceRequestDecodeBenchmark {
    private static final int BATCH_SIZE = 16 * 1024;
    private static final int VALUE_SIZE = 100;
    private static final String TOPIC = "orders-events";

    @Param({"1", "8", "64"})
    int partitions;

    /** 8: last non-flexible version; 9: first flexible one (compact lengths, tagged fields). */
    @Param({"8", "9"})
    short version;

    /** The server decodes from Netty's (direct) frame buffers; heap is what tests and tools use. */
    @Param({"HEAP", "DIRECT"})
    BufferKind buffer;

    private final WireReader reader = new WireReader();
    private ByteBuffer body;
    private int bodyLength;
    private int batchBytes;

    @Setup
    public void setUp() {
        ProduceRequest request = new ProduceRequest();
        request.transactionalId = null;
        request.acks = -1;
        request.timeoutMs = 30_000;
        ProduceRequest.TopicData topic = new ProduceRequest.TopicData(TOPIC);
        for (int p = 0; p < partitions; p++) {
            ByteBuffer batch = Batches.fullBatch(BufferKind.HEAP, BATCH_SIZE, VALUE_SIZE, Batches.SEED + p, 4_242L,
                (short) 3, 1_000 * p);
            Batches.requireValid(batch, -1);
            batchBytes += batch.remaining();
            topic.partitions.add(new ProduceRequest.PartitionData(p, new MemoryRecords(batch)));
        }
        request.topics.add(topic);
        WireWriter writer = new WireWriter(1024);
        request.write(writer, version);
        body = buffer.copyOf(writer.toFlatBuffer());
        bodyLength = body.limit();

        // The decoded request must be the one we built, read to its last byte.
        ProduceRequest decoded = read();
        reader.expectEnd();
        int decodedBytes = 0;
        for (ProduceRequest.PartitionData p : decoded.topics.get(0).partitions) {
            decodedBytes += p.records.sizeInBytes();
        }
        if (decoded.partitionCount() != partitions || decodedBytes != batchBytes) {
            throw new IllegalStateException("decoded " + decoded.partitionCount() + " partitions, " + decodedBytes
                + " record bytes; expected " + partitions + ", " + batchBytes);
        }
    }

    @Benchmark
    public ProduceRequest read() {
        return ProduceRequest.read(reader.wrap(body, 0, bodyLength), version);
    }

    /** The server's way (issue 14): into one request reused operation after operation, as a network thread does. */
    @Benchmark
    public ProduceRequest readInto() {
        ProduceRequest m = ProduceRequest.readInto(reader.wrap(body, 0, bodyLength), version, reused);
        m.forgetRecords();
        return m;
    }

    private final ProduceRequest reused = new ProduceRequest();
}
