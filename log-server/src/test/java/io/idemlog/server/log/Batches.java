package io.idemlog.server.log;

import com.github.luben.zstd.Zstd;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.xerial.snappy.Snappy;
import org.xerial.snappy.SnappyOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/** Builds produced batches the way a producer sends them, in direct buffers (as Netty hands them over). */
final class Batches {
    private Batches() {
    }

    /** A non-idempotent batch of {@code records} records with timestamps {@code timestamp, timestamp + 1, ...}. */
    static ByteBuffer plain(int records, long timestamp) {
        return idempotent(RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE,
            records, timestamp);
    }

    static ByteBuffer idempotent(long producerId, int epoch, int baseSequence, int records) {
        return idempotent(producerId, epoch, baseSequence, records, 1_000L);
    }

    static ByteBuffer idempotent(long producerId, int epoch, int baseSequence, int records, long timestamp) {
        return withValueSize(producerId, epoch, baseSequence, records, timestamp, 8);
    }

    /** A batch whose record values are {@code valueSize} bytes each (to control the batch size). */
    static ByteBuffer withValueSize(long producerId, int epoch, int baseSequence, int records, long timestamp,
                                    int valueSize) {
        ByteBuffer buf = ByteBuffer.allocateDirect(RecordBatch.HEADER_SIZE + records * (valueSize + 32) + 64);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < records; i++) {
            byte[] value = new byte[valueSize];
            byte[] label = ("v" + i).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(label, 0, value, 0, Math.min(label.length, valueSize));
            if (!builder.tryAppend(timestamp + i, ("k" + i).getBytes(StandardCharsets.UTF_8), value, null)) {
                throw new IllegalStateException("batch buffer too small");
            }
        }
        int size = builder.close();
        RecordBatch batch = new RecordBatch(buf, 0);
        if (producerId != RecordBatch.NO_PRODUCER_ID || baseSequence != RecordBatch.NO_SEQUENCE) {
            batch.stampProducerState(producerId, (short) epoch, baseSequence);
        }
        buf.limit(size);
        return buf;
    }

    /** A heap copy of the batch bytes, to compare with what is on disk or to corrupt. */
    static byte[] bytes(ByteBuffer batch) {
        byte[] bytes = new byte[batch.limit()];
        batch.duplicate().position(0).get(bytes);
        return bytes;
    }

    static ByteBuffer direct(byte[] bytes) {
        ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length);
        buf.put(bytes).flip();
        return buf;
    }

    /** A fresh copy (a retry sends the same bytes again; the first append patched baseOffset in its buffer). */
    static ByteBuffer copy(ByteBuffer batch) {
        return direct(bytes(batch));
    }

    /**
     * An idempotent batch of {@code records} text-like records compressed with {@code codec} (the codec libraries
     * used directly, as a producer would: xerial-framed snappy as kafka-clients writes it, LZ4 frames, zstd frames,
     * gzip), in a direct buffer.
     */
    static ByteBuffer compressed(Compression codec, long producerId, int epoch, int baseSequence, int records) {
        ByteBuffer plain = withValueSize(producerId, epoch, baseSequence, records, 1_000L, 40);
        return withPayload(plain, codec.id, records, compress(codec, inner(plain)));
    }

    /** The records section of an uncompressed batch. */
    static byte[] inner(ByteBuffer plain) {
        byte[] inner = new byte[plain.limit() - RecordBatch.RECORDS_OFFSET];
        plain.get(RecordBatch.RECORDS_OFFSET, inner);
        return inner;
    }

    /**
     * A batch with {@code template}'s header (producer state, timestamps), codec id {@code codecId}, {@code count}
     * records announced, {@code payload} as its records section and a valid CRC.
     */
    static ByteBuffer withPayload(ByteBuffer template, int codecId, int count, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocateDirect(RecordBatch.RECORDS_OFFSET + payload.length);
        b.put(0, template, 0, RecordBatch.RECORDS_OFFSET);
        b.put(RecordBatch.RECORDS_OFFSET, payload);
        b.putInt(RecordBatch.LENGTH_OFFSET, b.capacity() - RecordBatch.LOG_OVERHEAD);
        short attributes = b.getShort(RecordBatch.ATTRIBUTES_OFFSET);
        b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) ((attributes & ~RecordBatch.COMPRESSION_MASK) | codecId));
        b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, count);
        b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
        new RecordBatch(b, 0).updateCrc();
        return b;
    }

    static byte[] compress(Compression codec, byte[] data) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            switch (codec) {
                case GZIP:
                    try (OutputStream z = new GZIPOutputStream(out)) {
                        z.write(data);
                    }
                    return out.toByteArray();
                case SNAPPY:
                    try (OutputStream z = new SnappyOutputStream(out)) {
                        z.write(data);
                    }
                    return out.toByteArray();
                case LZ4:
                    try (OutputStream z = new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB,
                        LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE)) {
                        z.write(data);
                    }
                    return out.toByteArray();
                case ZSTD:
                    return Zstd.compress(data, 3);
                default:
                    return data.clone();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Raw snappy (no xerial framing), as librdkafka writes it. */
    static byte[] rawSnappy(byte[] data) {
        try {
            return Snappy.compress(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
