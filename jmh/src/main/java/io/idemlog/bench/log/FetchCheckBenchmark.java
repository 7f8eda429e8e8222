package io.idemlog.bench.log;

import io.idemlog.bench.Batches;
import io.idemlog.bench.BufferKind;
import io.idemlog.common.record.RecordBatch;
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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * What checking a sealed segment on read costs (docs/STORAGE.md, "Checks on read"): one 1 MiB fetch of whole
 * batches from a segment file in the page cache, sent zero-copy ({@code transferTo}) to a loopback TCP socket that a
 * thread drains, as the server sends a fetch answer:
 * <ul>
 *   <li>{@code serve}: the send alone (what a verified segment costs);</li>
 *   <li>{@code headersThenServe}: first a positional read of each batch header (61 bytes) with the framing and
 *       offset-continuity checks (magic, batchLength within the range, baseOffset = previous lastOffset + 1), then
 *       the send;</li>
 *   <li>{@code crcThenServe}: first the whole range read into a reused heap buffer (1 MiB reads, as the server's
 *       per-thread scanner does) and every batch checked ({@link RecordBatch#validate}: framing, magic, CRC-32C,
 *       record count) plus offset continuity, then the send: the check a first read of a sealed segment runs.</li>
 * </ul>
 * {@code headersOnly} and {@code crcOnly} are the two checks without the send (the send's cost varies most with the
 * machine's load). The server runs the CRC check once per byte of a sealed segment (the checked range is remembered), so the ratio
 * crcThenServe / serve is the cost of the first fetch of each MiB after a restart, not of every fetch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FetchCheckBenchmark {
    static final int FETCH_BYTES = 1 << 20;

    @Param({"1024", "16384"})
    int batchBytes;

    private Path file;
    private FileChannel channel;
    private int regionBytes;
    private int batchCount;
    private ServerSocketChannel server;
    private SocketChannel client;
    private SocketChannel peer;
    private Thread drainer;
    private ByteBuffer checkBuffer;
    private final ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        file = Files.createTempFile("idemlog-bench-fetch", ".log");
        channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        int valueSize = 100;
        int records = Math.max(1, batchBytes / (valueSize + 10));
        ByteBuffer batch = Batches.batch(BufferKind.HEAP, Batches.values(records, valueSize, Batches.SEED), 42L,
            (short) 0, 0);
        RecordBatch view = new RecordBatch(batch, 0);
        long offset = 0;
        int position = 0;
        while (position + batch.limit() <= FETCH_BYTES) {
            view.baseOffset(offset); // outside the CRC, as the server patches it
            ByteBuffer b = batch.duplicate().position(0);
            while (b.hasRemaining()) {
                position += channel.write(b, position);
            }
            offset += view.lastOffsetDelta() + 1;
            batchCount++;
        }
        regionBytes = position;
        channel.force(true);
        checkBuffer = ByteBuffer.allocate(FETCH_BYTES);
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client = SocketChannel.open(server.getLocalAddress());
        peer = server.accept();
        drainer = new Thread(this::drain, "fetch-bench-drainer");
        drainer.setDaemon(true);
        drainer.start();
    }

    private void drain() {
        ByteBuffer sink = ByteBuffer.allocateDirect(256 * 1024);
        try {
            while (peer.read(sink.clear()) >= 0) {
                // discard
            }
        } catch (IOException e) {
            // closed at tear-down
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException {
        client.close();
        drainer.join(10_000);
        peer.close();
        server.close();
        channel.close();
        Files.deleteIfExists(file);
    }

    @Benchmark
    public long serve() throws IOException {
        return send();
    }

    @Benchmark
    public long headersThenServe() throws IOException {
        return checkHeaders() + send();
    }

    @Benchmark
    public long crcThenServe() throws IOException {
        return checkCrc() + send();
    }

    /** The header walk alone (no send). */
    @Benchmark
    public long headersOnly() throws IOException {
        return checkHeaders();
    }

    /** The read and CRC check alone (no send). */
    @Benchmark
    public long crcOnly() throws IOException {
        return checkCrc();
    }

    private long checkHeaders() throws IOException {
        long expected = 0;
        int position = 0;
        while (position < regionBytes) {
            header.clear();
            while (header.hasRemaining()) {
                channel.read(header, position + header.position());
            }
            int length = header.getInt(RecordBatch.LENGTH_OFFSET);
            long end = (long) position + RecordBatch.LOG_OVERHEAD + length;
            if (header.get(RecordBatch.MAGIC_OFFSET) != RecordBatch.MAGIC || end > regionBytes
                || length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD
                || header.getLong(RecordBatch.BASE_OFFSET_OFFSET) != expected) {
                throw new IllegalStateException("damaged at " + position);
            }
            expected = header.getLong(RecordBatch.BASE_OFFSET_OFFSET) + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET)
                + 1;
            position = (int) end;
        }
        return expected;
    }

    private long checkCrc() throws IOException {
        ByteBuffer buf = checkBuffer.clear().limit(regionBytes);
        while (buf.hasRemaining()) {
            channel.read(buf, buf.position());
        }
        RecordBatch batch = new RecordBatch();
        long expected = 0;
        int position = 0;
        int checked = 0;
        while (position < regionBytes) {
            batch.wrap(buf, position);
            if (batch.validate(regionBytes - position, Integer.MAX_VALUE) != RecordBatch.Validation.VALID
                || batch.baseOffset() != expected) {
                throw new IllegalStateException("damaged at " + position);
            }
            expected = batch.lastOffset() + 1;
            position += batch.sizeInBytes();
            checked++;
        }
        if (checked != batchCount) {
            throw new IllegalStateException(checked + " batches checked of " + batchCount);
        }
        return expected;
    }

    private long send() throws IOException {
        long sent = 0;
        while (sent < regionBytes) {
            sent += channel.transferTo(sent, regionBytes - sent, client);
        }
        return sent;
    }
}
