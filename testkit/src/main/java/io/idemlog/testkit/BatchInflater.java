package io.idemlog.testkit;

import com.github.luben.zstd.ZstdInputStream;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import net.jpountz.lz4.LZ4FrameInputStream;
import org.xerial.snappy.SnappyInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;

/**
 * For test tools only (it copies, per batch): turns a compressed batch into the same batch uncompressed (header
 * copied, codec bits cleared, the records decompressed after it), so that {@link io.idemlog.common.record.RecordReader}
 * can walk it. The streams are the codec libraries' own readers of the formats Kafka producers write: gzip, snappy
 * in xerial framing (snappy-java's reader also takes librdkafka's raw snappy), the LZ4 frame format, a zstd frame.
 * The CRC of the copy is not recomputed: the caller validated the original.
 */
final class BatchInflater {
    private static final int MAX_INNER_BYTES = 64 << 20;

    private BatchInflater() {
    }

    /** The uncompressed copy of the compressed batch at {@code index} of {@code buffer}, at index 0 of the result. */
    static ByteBuffer inflate(ByteBuffer buffer, int index, RecordBatch batch) throws IOException {
        Compression codec = Compression.forId(batch.compression());
        if (codec == null || codec == Compression.NONE) {
            throw new IOException("compression type " + batch.compression() + " cannot be decompressed");
        }
        int compressedLength = batch.sizeInBytes() - RecordBatch.RECORDS_OFFSET;
        byte[] compressed = new byte[compressedLength];
        buffer.get(index + RecordBatch.RECORDS_OFFSET, compressed);
        byte[] inner;
        try (InputStream in = stream(codec, new ByteArrayInputStream(compressed))) {
            inner = in.readNBytes(MAX_INNER_BYTES + 1);
        }
        if (inner.length > MAX_INNER_BYTES) {
            throw new IOException("a batch of more than " + MAX_INNER_BYTES + " bytes uncompressed");
        }
        ByteBuffer out = ByteBuffer.allocate(RecordBatch.RECORDS_OFFSET + inner.length);
        out.put(0, buffer, index, RecordBatch.RECORDS_OFFSET);
        out.put(RecordBatch.RECORDS_OFFSET, inner);
        out.putInt(RecordBatch.LENGTH_OFFSET, out.capacity() - RecordBatch.LOG_OVERHEAD);
        short attributes = out.getShort(RecordBatch.ATTRIBUTES_OFFSET);
        out.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) (attributes & ~0x7)); // codec bits 0-2: none
        return out;
    }

    private static InputStream stream(Compression codec, InputStream raw) throws IOException {
        return switch (codec) {
            case GZIP -> new GZIPInputStream(raw);
            case SNAPPY -> new SnappyInputStream(raw);
            case LZ4 -> new LZ4FrameInputStream(raw);
            case ZSTD -> new ZstdInputStream(raw);
            default -> throw new IOException("compression type " + codec + " cannot be decompressed");
        };
    }
}
