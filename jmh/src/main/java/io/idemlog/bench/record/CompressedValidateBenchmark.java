package io.idemlog.bench.record;

import io.idemlog.common.record.CompressedRecords;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.common.record.RecordsCompressor;
import io.idemlog.common.record.Varints;
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
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The server's CPU per produced batch, uncompressed vs compressed: the header check ({@link RecordBatch#validate},
 * CRC-32C included) plus the record walk, which for a compressed batch is {@link CompressedRecords#validate}
 * (streaming decompression) and for an uncompressed one {@link RecordBatch#validateRecords}. A batch is what the
 * idemlog producer sends by default: 64 KiB of text-like records (JSON-ish events of {@code valueSize} bytes)
 * before compression, compressed at each codec's Kafka default level. One operation = one batch; divide by the
 * record count printed at setup for the cost per record. Direct buffers, as the server's Netty frames.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CompressedValidateBenchmark {
    @Param({"none", "gzip", "snappy", "lz4", "zstd"})
    String codec;

    @Param({"200"})
    int valueSize;

    private final RecordBatch batch = new RecordBatch();
    private final Varints.Cursor cursor = new Varints.Cursor();
    private final CompressedRecords inner = new CompressedRecords();
    private int size;
    /** Records per batch, for the per-record figure. */
    public int records;

    @Setup
    public void setUp() {
        ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        Random random = new Random(42);
        String[] words = {"page_view", "click", "checkout", "search", "catalog", "item", "session", "mobile"};
        while (true) {
            StringBuilder sb = new StringBuilder("{\"id\":" + (1_000_000 + random.nextInt(9_000_000)) + ",\"user\":\"u"
                + random.nextInt(50_000) + "\",\"event\":\"" + words[random.nextInt(words.length)] + "\"");
            while (sb.length() < valueSize) {
                sb.append(",\"").append(words[random.nextInt(words.length)]).append("\":").append(random.nextInt(1000));
            }
            sb.setLength(valueSize);
            if (!b.tryAppend(1_700_000_000_000L + records, null, sb.toString().getBytes(StandardCharsets.US_ASCII),
                null)) {
                break;
            }
            records++;
        }
        size = b.close();
        size = new RecordsCompressor().compressInPlace(buf, size, Compression.forName(codec),
            codec.equals("lz4") ? RecordsCompressor.LZ4_DEFAULT_LEVEL : codec.equals("zstd")
                ? RecordsCompressor.ZSTD_DEFAULT_LEVEL : RecordsCompressor.GZIP_DEFAULT_LEVEL);
        batch.wrap(buf, 0);
        if (batch.compression() != Compression.forName(codec).id || !check()) {
            throw new IllegalStateException("fixture batch not " + codec + " or rejected: " + inner.reason());
        }
        System.out.printf("%n%s: %d records, %d bytes on the wire%n", codec, records, size);
    }

    @Benchmark
    public boolean check() {
        if (batch.validate(size, Integer.MAX_VALUE) != RecordBatch.Validation.VALID) {
            return false;
        }
        return batch.compression() == 0 ? batch.validateRecords(cursor)
            : inner.validate(batch, 16L << 20) == CompressedRecords.Result.VALID;
    }
}
