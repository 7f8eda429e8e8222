package io.idemlog.bench.protocol;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ProduceResponse;

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

import java.util.concurrent.TimeUnit;

/**
 * Encoding the Produce response for a request of {@code partitions} partitions, all appended (error NONE, a base
 * offset each). Two variants:
 * <ul>
 *   <li>{@link #encode}: the body codec alone, into a writer reused across operations (its buffer already grown);
 *   <li>{@link #encodeFrame}: what the server's RequestContext.respond did per answer until issue 14: a new 128-byte
 *       writer, size prefix, response header, body, size patched. The difference is the price of that fresh,
 *       growing writer (the server's way until issue 14);
 *   <li>{@link #encodeFrameReused}: the server's way since: the frame into a reused writer, then an exact copy of
 *       its bytes.
 * </ul>
 * One operation = one response.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ProduceResponseEncodeBenchmark {
    private static final String TOPIC = "orders-events";
    /** RequestContext's initial writer capacity. */
    private static final int SERVER_WRITER_CAPACITY = 128;

    @Param({"1", "8", "64"})
    int partitions;

    /** 8: last non-flexible version; 9: first flexible one. */
    @Param({"8", "9"})
    short version;

    private final WireWriter reused = new WireWriter();
    private ProduceResponse response;
    private short headerVersion;
    private int correlationId;
    private int writerCapacity;

    @Setup
    public void setUp() {
        response = new ProduceResponse();
        ProduceResponse.TopicResponse topic = new ProduceResponse.TopicResponse(TOPIC);
        for (int p = 0; p < partitions; p++) {
            topic.partitions.add(new ProduceResponse.PartitionResponse(p, ErrorCode.NONE.code, 1_000_000L * (p + 1),
                0L));
        }
        response.topics.add(topic);
        headerVersion = ApiKey.PRODUCE.responseHeaderVersion(version);
        correlationId = 7_001;
        writerCapacity = SERVER_WRITER_CAPACITY;

        // What we encode must decode back to the same partitions.
        WireWriter frame = encodeFrame();
        WireReader r = new WireReader(frame.bytes());
        int size = r.readInt32();
        if (size != frame.totalSize() - 4 || ResponseHeader.read(r, headerVersion) != correlationId) {
            throw new IllegalStateException("bad frame prefix or header");
        }
        ProduceResponse decoded = ProduceResponse.read(r, version);
        r.expectEnd();
        if (decoded.topics.get(0).partitions.size() != partitions) {
            throw new IllegalStateException("decoded " + decoded.topics.get(0).partitions.size() + " partitions");
        }
    }

    @Benchmark
    public int encode() {
        WireWriter w = reused.reset();
        response.write(w, version);
        return w.position();
    }

    /**
     * What RequestContext.respond does since issue 14: the frame encoded into the thread's reused writer, and an
     * exact copy of its bytes handed to the connection (returned: it escapes there).
     */
    @Benchmark
    public byte[] encodeFrameReused() {
        WireWriter w = reused.reset();
        w.writeInt32(0);
        ResponseHeader.write(w, correlationId, headerVersion);
        response.write(w, version);
        w.putInt32At(0, w.totalSize() - 4);
        return w.copyOfBytes();
    }

    /** Returns the writer: in the server it escapes to the connection, so the JIT must not scalar-replace it. */
    @Benchmark
    public WireWriter encodeFrame() {
        WireWriter w = new WireWriter(writerCapacity);
        w.writeInt32(0);
        ResponseHeader.write(w, correlationId, headerVersion);
        response.write(w, version);
        w.putInt32At(0, w.totalSize() - 4);
        return w;
    }
}
