package io.idemlog.common.record;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdException;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.xxhash.XXHashFactory;
import org.xerial.snappy.Snappy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Compresses the records section of a closed uncompressed batch in place: the records are compressed into a reused
 * scratch buffer and the result copied back over them, then the attributes, batchLength and CRC are rewritten
 * ({@link #compressInPlace}). One copy of the compressed bytes per batch; nothing per record. The output is what
 * Kafka's own producer writes, so that every Kafka broker and consumer reads it: gzip (one RFC 1952 member, the
 * JDK's Deflater), snappy in the xerial framing (16-byte header, 32 KiB blocks, as kafka-clients' SnappyOutputStream),
 * lz4 in Kafka's LZ4 frame (independent 64 KiB blocks, header checksum, no content checksum: KafkaLZ4BlockOutputStream;
 * an incompressible block is stored raw), zstd as one frame with its content size (zstd-jni).
 *
 * <p>Levels as kafka-clients' {@code compression.gzip.level} (-1 = zlib's default, or 1-9),
 * {@code compression.lz4.level} (1-17; the default 9 means the fast LZ4 compressor and any other level LZ4HC at that
 * level, exactly as kafka-clients 4.x decides) and {@code compression.zstd.level}
 * (default 3).
 *
 * <p>Not thread-safe: one per thread that closes batches. Holds one direct scratch buffer, grown to the largest
 * records section compressed so far, and the codec contexts (created on first use).
 */
public final class RecordsCompressor {
    public static final int GZIP_DEFAULT_LEVEL = Deflater.DEFAULT_COMPRESSION;
    public static final int LZ4_DEFAULT_LEVEL = 9;
    public static final int ZSTD_DEFAULT_LEVEL = 3;
    static final int SNAPPY_BLOCK = 32 * 1024;
    static final int LZ4_BLOCK = 64 * 1024;
    private static final byte[] XERIAL_HEADER = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};

    private static final byte[] GZIP_HEADER = {0x1F, (byte) 0x8B, 8, 0, 0, 0, 0, 0, 0, (byte) 0xFF};

    private ByteBuffer scratch = ByteBuffer.allocateDirect(64 * 1024);
    private ByteBuffer directIn;
    private Deflater deflater;
    private int deflaterLevel = Integer.MIN_VALUE;
    private final CRC32 crc32 = new CRC32();
    private ZstdCompressCtx zstd;
    private LZ4Compressor lz4;
    private int lz4Level = -1;

    /**
     * Compresses the records of the closed uncompressed batch at {@code [0, size)} of {@code batch} (whose capacity
     * bounds the result) with {@code codec} at {@code level}, rewriting its header. Returns the new batch size, or
     * {@code size} unchanged (and the batch left uncompressed) when the compressed batch would not fit the
     * buffer's capacity (incompressible data).
     */
    public int compressInPlace(ByteBuffer batch, int size, Compression codec, int level) {
        if (codec == Compression.NONE) {
            return size;
        }
        int from = RecordBatch.RECORDS_OFFSET;
        int length = size - from;
        int room = batch.capacity() - from;
        ByteBuffer src = batch;
        int srcOff = from;
        if (!batch.isDirect()) { // snappy-java and zstd-jni take direct buffers only
            if (directIn == null || directIn.capacity() < length) {
                directIn = ByteBuffer.allocateDirect(Math.max(length, 64 * 1024));
            }
            directIn.put(0, batch, from, length);
            src = directIn;
            srcOff = 0;
        }
        int bound = bound(codec, length);
        if (scratch.capacity() < bound) {
            scratch = ByteBuffer.allocateDirect(bound);
        }
        int n = compress(codec, level, src, srcOff, length, scratch);
        if (n < 0 || n > room) {
            return size;
        }
        batch.put(from, scratch, 0, n);
        RecordBatch header = new RecordBatch(batch, 0);
        short attributes = header.attributes();
        batch.putShort(RecordBatch.ATTRIBUTES_OFFSET,
            (short) ((attributes & ~RecordBatch.COMPRESSION_MASK) | codec.id));
        batch.putInt(RecordBatch.LENGTH_OFFSET, from + n - RecordBatch.LOG_OVERHEAD);
        header.updateCrc();
        return from + n;
    }

    /** The most bytes compressing {@code length} bytes can take with {@code codec}, framing included. */
    static int bound(Compression codec, int length) {
        long b = switch (codec) {
            case GZIP -> 18L + length + 5L * (length / 16_000 + 1) + 64;
            case SNAPPY -> XERIAL_HEADER.length + (long) (length / SNAPPY_BLOCK + 1) * (4 + Snappy.maxCompressedLength(
                SNAPPY_BLOCK));
            case LZ4 -> 7L + (long) (length / LZ4_BLOCK + 1) * (4 + LZ4_BLOCK) + 4;
            case ZSTD -> com.github.luben.zstd.Zstd.compressBound(length);
            default -> length;
        };
        return (int) Math.min(Integer.MAX_VALUE - 16, b);
    }

    private int compress(Compression codec, int level, ByteBuffer src, int off, int len, ByteBuffer out) {
        switch (codec) {
            case GZIP:
                return gzip(level, src, off, len, out);
            case SNAPPY:
                return snappy(src, off, len, out);
            case LZ4:
                return lz4(level, src, off, len, out);
            case ZSTD:
                return zstd(level, src, off, len, out);
            default:
                return -1;
        }
    }

    private int gzip(int level, ByteBuffer src, int off, int len, ByteBuffer out) {
        if (deflater == null || deflaterLevel != level) {
            if (deflater != null) {
                deflater.end();
            }
            deflater = new Deflater(level, true);
            deflaterLevel = level;
        } else {
            deflater.reset();
        }
        // header: magic, deflate, no flags, no mtime, no extra flags, OS unknown
        out.clear();
        out.put(GZIP_HEADER);
        ByteBuffer in = src.duplicate();
        in.limit(off + len).position(off);
        crc32.reset();
        crc32.update(in);
        in.position(off);
        deflater.setInput(in);
        deflater.finish();
        while (!deflater.finished()) {
            if (!out.hasRemaining()) {
                return -1;
            }
            deflater.deflate(out);
        }
        if (out.remaining() < 8) {
            return -1;
        }
        out.putInt(Integer.reverseBytes((int) crc32.getValue()));
        out.putInt(Integer.reverseBytes(len));
        return out.position();
    }

    private int snappy(ByteBuffer src, int off, int len, ByteBuffer out) {
        out.clear();
        out.put(XERIAL_HEADER);
        ByteBuffer in = src.duplicate();
        try {
            for (int p = off; p < off + len; p += SNAPPY_BLOCK) {
                int block = Math.min(SNAPPY_BLOCK, off + len - p);
                in.limit(p + block).position(p);
                int at = out.position();
                ByteBuffer dst = out.duplicate();
                dst.position(at + 4);
                int n = Snappy.compress(in, dst);
                out.putInt(at, n);
                out.position(at + 4 + n);
            }
        } catch (IOException e) {
            throw new IllegalStateException("snappy failed", e);
        }
        return out.position();
    }

    private int lz4(int level, ByteBuffer src, int off, int len, ByteBuffer out) {
        if (lz4 == null || lz4Level != level) {
            // as kafka-clients (Lz4BlockOutputStream): the default level is the fast compressor, any other LZ4HC
            lz4 = level == LZ4_DEFAULT_LEVEL ? LZ4Factory.fastestInstance().fastCompressor()
                : LZ4Factory.fastestInstance().highCompressor(level);
            lz4Level = level;
        }
        out.clear();
        out.putInt(Integer.reverseBytes(0x184D2204));
        int flg = 0x40 | 0x20; // version 01, independent blocks
        int bd = 4 << 4; // 64 KiB blocks
        out.put((byte) flg).put((byte) bd);
        int hc = (XXHashFactory.fastestInstance().hash32().hash(out, 4, 2, 0) >> 8) & 0xFF;
        out.put((byte) hc);
        for (int p = off; p < off + len; p += LZ4_BLOCK) {
            int block = Math.min(LZ4_BLOCK, off + len - p);
            int at = out.position();
            int n;
            try {
                n = lz4.compress(src, p, block, out, at + 4, block - 1); // smaller than the block, else stored raw
            } catch (LZ4Exception e) {
                n = -1;
            }
            if (n > 0 && n < block) {
                out.putInt(at, Integer.reverseBytes(n));
                out.position(at + 4 + n);
            } else {
                out.putInt(at, Integer.reverseBytes(block | 0x80000000));
                out.put(at + 4, src, p, block);
                out.position(at + 4 + block);
            }
        }
        out.putInt(0); // end mark
        return out.position();
    }

    private int zstd(int level, ByteBuffer src, int off, int len, ByteBuffer out) {
        if (zstd == null) {
            zstd = new ZstdCompressCtx();
            zstd.setContentSize(true);
        }
        zstd.setLevel(level);
        try {
            return zstd.compressDirectByteBuffer(out, 0, out.capacity(), src, off, len);
        } catch (ZstdException e) {
            return -1;
        }
    }
}
