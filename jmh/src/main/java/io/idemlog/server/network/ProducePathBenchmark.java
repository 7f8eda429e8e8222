package io.idemlog.server.network;

import io.idemlog.bench.Batches;
import io.idemlog.bench.BufferKind;
import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.handler.BrokerContext;
import io.idemlog.server.handler.FetchWaits;
import io.idemlog.server.handler.Handlers;
import io.idemlog.server.handler.ServerMetrics;
import io.idemlog.server.log.LogManager;
import io.idemlog.server.log.ManualStores;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * One acks=all Produce request through the server on a single node, per operation (issue 14 target 4): a real
 * request frame (v9, one topic, {@code partitions} partitions, one idempotent batch of 4 records of 100 bytes each)
 * goes through the connection's pipeline in memory (Netty's EmbeddedChannel: {@link FrameDecoder}, then
 * {@link Connection}, which decodes the header and runs the real ProduceHandler), is appended to a real
 * {@link LogManager} (PartitionLog) in a temporary directory, made durable by the end-of-read-burst group commit that
 * log.flush.thread=network runs on this thread (with the fsync itself a no-op, {@link ManualStores}: the disk is not
 * measured, the server's work around it is), and answered: the response frame is encoded and written to the
 * channel, and read back here. So {@code -prof gc}'s gc.alloc.rate.norm is the server's allocation per request,
 * decode to response, including the per-request objects of the connection (RequestContext, the response's
 * WireWriter, Netty's slices and wrappers) and the durability wait (the timeout's scheduled task).
 *
 * <p>Between operations only the batches' base sequences move on (and their CRCs are recomputed, in place, with a
 * reused CRC32C): each request is a new batch, never a duplicate. The frame is a heap buffer (the server reads
 * pooled direct ones: the handler's work is the same).
 *
 * <p>gc.alloc.rate.norm counts every thread of the JVM, so on a loaded machine (few operations per iteration) JMH's
 * own background allocation shared among the operations inflates it by tens to hundreds of bytes. Each iteration
 * therefore also prints the benchmark thread's own allocation per request ({@code this thread: ... B/request}),
 * which is the server path's alone and does not depend on the load.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ProducePathBenchmark {
    private static final String TOPIC = "orders-events";
    private static final short VERSION = 9;
    private static final int RECORDS = 4;
    private static final int VALUE_SIZE = 100;
    private static final long PRODUCER_ID = 4_242L;

    @Param({"1", "8"})
    int partitions;

    private Path dir;
    private LogManager store;
    private EmbeddedChannel channel;
    private ChannelPipeline pipeline;
    private byte[] frameBytes;
    private ByteBuffer frameView;
    private ByteBuf frame;
    /** Where each partition's batch starts in {@link #frameBytes}, and its length. */
    private int[] batchAt;
    private int[] batchLength;
    private int sequence;
    private final CRC32C crc = new CRC32C();
    /** Operations whose answer needed a group commit beyond the end-of-burst one (a roll's seal): expected 0. */
    private long extraCommits;
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** Requests so far, and the counts at the start of the iteration (this thread's allocation per request). */
    private long requests;
    private long requestsAtStart;
    private long allocatedAtStart;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("idemlog-produce-path");
        Map<String, String> props = new HashMap<>();
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("log.flush.thread", "network"); // acks=all: the read burst's end commits, on this thread
        props.put("log.preallocate", "false");
        ServerConfig config = ServerConfig.of(props);
        FetchWaits fetchWaits = new FetchWaits();
        store = ManualStores.open(dir, config.log, SystemEpochClock.INSTANCE, fetchWaits);
        store.createTopic(TOPIC, partitions, Map.of(), false);
        BrokerContext broker = new BrokerContext(config, store, "bench-cluster", fetchWaits, new ServerMetrics(),
            Runnable::run);
        ConnectionShared shared = new ConnectionShared(config.socketRequestMaxBytes, 0L, 1_000,
            new RequestMemory(1L << 30), new NetworkMetrics(), new LogLimiter(10, 10, SystemNanoClock.INSTANCE),
            SystemNanoClock.INSTANCE);
        FrameDecoder frames = new FrameDecoder(shared);
        channel = new EmbeddedChannel(frames, new Connection(Handlers.create(broker), shared, frames));
        pipeline = channel.pipeline();

        ProduceRequest request = new ProduceRequest();
        request.acks = -1;
        request.timeoutMs = 30_000;
        ProduceRequest.TopicData topic = new ProduceRequest.TopicData(TOPIC);
        ByteBuffer[] batches = new ByteBuffer[partitions];
        for (int p = 0; p < partitions; p++) {
            batches[p] = Batches.batch(BufferKind.HEAP, Batches.values(RECORDS, VALUE_SIZE, Batches.SEED + p),
                PRODUCER_ID, (short) 0, 0);
            Batches.requireValid(batches[p], RECORDS);
            topic.partitions.add(new ProduceRequest.PartitionData(p, new MemoryRecords(batches[p].duplicate())));
        }
        request.topics.add(topic);
        WireWriter w = new WireWriter(1024);
        w.writeInt32(0);
        new RequestHeader(ApiKey.PRODUCE, VERSION, 7, "bench-producer").write(w);
        request.write(w, VERSION);
        ByteBuffer flat = w.toFlatBuffer();
        frameBytes = new byte[flat.remaining()];
        flat.get(frameBytes);
        frameView = ByteBuffer.wrap(frameBytes);
        frameView.putInt(0, frameBytes.length - 4);
        frame = Unpooled.wrappedBuffer(frameBytes);
        batchAt = new int[partitions];
        batchLength = new int[partitions];
        for (int p = 0; p < partitions; p++) {
            batchAt[p] = indexOf(frameBytes, batches[p]);
            batchLength[p] = batches[p].remaining();
        }

        // The first request must be answered NONE for every partition, at offset 0, within the operation.
        ByteBuf out = exchange(false);
        ByteBuffer rsp = out.nioBuffer();
        WireReader r = new WireReader().wrap(rsp, 4, rsp.limit());
        if (ResponseHeader.read(r, ApiKey.PRODUCE.responseHeaderVersion(VERSION)) != 7) {
            throw new IllegalStateException("wrong correlation id");
        }
        ProduceResponse decoded = ProduceResponse.read(r, VERSION);
        out.release();
        if (decoded.topics.size() != 1 || decoded.topics.get(0).partitions.size() != partitions) {
            throw new IllegalStateException("unexpected response shape");
        }
        for (ProduceResponse.PartitionResponse pr : decoded.topics.get(0).partitions) {
            if (pr.errorCode != ErrorCode.NONE.code || pr.baseOffset != 0L) {
                throw new IllegalStateException("partition " + pr.index + ": error " + pr.errorCode + " ("
                    + pr.errorMessage + "), base offset " + pr.baseOffset);
            }
        }
        if (extraCommits != 0) {
            throw new IllegalStateException("the first request was not durable at the end of its read burst");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (extraCommits != 0) {
            System.out.println("operations that needed an extra group commit: " + extraCommits);
        }
        channel.finishAndReleaseAll();
        store.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Setup(Level.Iteration)
    public void startCounting() {
        requestsAtStart = requests;
        allocatedAtStart = THREADS.getCurrentThreadAllocatedBytes();
    }

    @TearDown(Level.Iteration)
    public void printThisThreadsAllocation() {
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedAtStart;
        long n = requests - requestsAtStart;
        if (n > 0) {
            System.out.printf("this thread: %.1f B/request over %d requests%n", (double) allocated / n, n);
        }
    }

    @Benchmark
    public int produce() {
        requests++;
        ByteBuf out = exchange(true);
        int size = out.readableBytes();
        out.release();
        return size;
    }

    /** One request: the frame in, its read burst's end (the group commit), the answer out. */
    private ByteBuf exchange(boolean nextSequence) {
        if (nextSequence) {
            sequence += RECORDS;
            for (int p = 0; p < partitions; p++) {
                int at = batchAt[p];
                frameView.putInt(at + RecordBatch.BASE_SEQUENCE_OFFSET, sequence);
                crc.reset();
                crc.update(frameBytes, at + RecordBatch.ATTRIBUTES_OFFSET,
                    batchLength[p] - RecordBatch.ATTRIBUTES_OFFSET);
                frameView.putInt(at + RecordBatch.CRC_OFFSET, (int) crc.getValue());
            }
        }
        frame.retain().setIndex(0, frameBytes.length); // the decoder releases it once read
        pipeline.fireChannelRead(frame);
        pipeline.fireChannelReadComplete();
        ByteBuf out = channel.readOutbound();
        if (out == null) {
            // Only if a segment rolled (its seal is the storage thread's work): run it here.
            extraCommits++;
            ManualStores.flushOnce(store);
            channel.runPendingTasks();
            out = channel.readOutbound();
            if (out == null) {
                throw new IllegalStateException("no answer to the produce request");
            }
        }
        return out;
    }

    private static int indexOf(byte[] haystack, ByteBuffer needle) {
        byte[] n = new byte[needle.remaining()];
        needle.duplicate().get(n);
        outer:
        for (int i = 0; i + n.length <= haystack.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (haystack[i + j] != n[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("batch not found in the frame");
    }
}
