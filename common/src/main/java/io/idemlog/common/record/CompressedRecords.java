package io.idemlog.common.record;

import com.github.luben.zstd.ZstdDecompressCtx;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.xerial.snappy.Snappy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Checks the records of a compressed batch (attributes codec 1-4) by streaming decompression: the inner bytes pass
 * through a small reused buffer while the same record walk as {@link RecordBatch#validateRecords} checks them
 * (exactly {@code recordsCount} well-formed records, offset deltas 0, 1, 2, ..., nothing after the last one). No
 * decompressed copy of the batch is kept: the batch is stored and served exactly as produced.
 *
 * <p>Codecs, as Kafka's own clients and librdkafka write them: gzip (RFC 1952, one or more members, CRC-32 and size
 * trailer checked; JDK {@link Inflater}); snappy in the xerial framing kafka-clients writes (16-byte header, then
 * blocks of a 4-byte big-endian length and a raw snappy block) or as one raw snappy block (librdkafka); lz4 in
 * the LZ4 frame format with independent blocks (Kafka's KafkaLZ4BlockOutputStream and librdkafka's LZ4F); zstd
 * frames (zstd-jni). Frame-level checksums that lz4 and zstd may carry are not recomputed: the batch CRC-32C,
 * checked before this runs, already covers every compressed byte.
 *
 * <p>Bounds (a "zip bomb" costs at most this): decompression stops, with {@link Result#TOO_LARGE}, as soon as
 * more than {@code maxInnerBytes} inner bytes have come out, so CPU is bounded by that many bytes of output. Memory:
 * a 64 KiB buffer for gzip and zstd output; an lz4 block buffer of the frame's declared block size (64 KiB to
 * 4 MiB); a snappy block buffer of the block's uncompressed size (for librdkafka's raw snappy, the whole inner
 * size: at most {@code maxInnerBytes}); a zstd frame whose declared window exceeds {@code maxInnerBytes} (or 8 MiB,
 * whichever is larger) is refused
 * before decompression starts, so the zstd context never allocates a larger window. Buffers above 1 MiB are not
 * kept after the batch. A heap batch (tests; the server's network buffers are direct) is first copied into a
 * reused direct buffer, because snappy-java and zstd-jni stream only between direct buffers.
 *
 * <p>Not thread-safe: one instance per thread (the server keeps one per produce thread). Allocates nothing per
 * record nor per batch: it walks the batch's own direct buffer, whose position and limit it moves and restores before
 * returning (the caller must not use that buffer concurrently).
 */
public final class CompressedRecords {
    /** Outcome of {@link #validate}. */
    public enum Result {
        VALID,
        /** The compressed stream or the records in it are malformed ({@link #reason()} says which). */
        CORRUPT,
        /** More inner bytes than the caller's limit, or a zstd window larger than it. */
        TOO_LARGE,
        /** Codec id 5-7. */
        UNSUPPORTED
    }

    static final int CHUNK = 64 * 1024;
    private static final int RETAIN_LIMIT = 1 << 20;
    private static final int ZSTD_MAGIC = 0xFD2FB528;
    private static final int LZ4_MAGIC = 0x184D2204;
    private static final byte[] XERIAL_MAGIC = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    private static final int XERIAL_HEADER = 16;
    /**
     * A streamed zstd frame (no content size) declares its compression level's window, 2 MiB at kafka-clients'
     * default level 3 and 8 MiB at level 19, whatever the batch size: windows up to this are accepted even when
     * {@code maxInnerBytes} is smaller.
     */
    static final long ZSTD_MIN_WINDOW_ALLOWED = 8L << 20;

    private final ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
    private ByteBuffer blockOut = ByteBuffer.allocateDirect(CHUNK);
    private ByteBuffer directCopy = ByteBuffer.allocateDirect(CHUNK);
    private static final int INFLATED_RETAIN_LIMIT = 4 << 20;
    private ByteBuffer inflated = ByteBuffer.allocate(CHUNK);
    private int inflatedSize;
    private Inflater inflater;
    private final CRC32 crc32 = new CRC32();
    private ZstdDecompressCtx zstd;
    private LZ4SafeDecompressor lz4;

    // The compressed input, [inStart, inEnd) of a direct buffer this instance may move position and limit of.
    private ByteBuffer in;
    /** The caller's position and limit of {@link #in} when it is the batch's own buffer; -1: nothing to restore. */
    private int savedPosition;
    private int savedLimit = -1;
    private int inStart;
    private int inEnd;
    private Compression codec;
    private long maxInner;

    // The walker's current chunk of inner bytes: absolute indices [pos, lim) of cur.
    private ByteBuffer cur;
    private int pos;
    private int lim;
    /** Inner bytes made available so far (all chunks). */
    private long produced;
    /** Set when the stream ended, broke or ran over the limit: no more chunks. */
    private boolean ended;
    private Result failure;
    private String reason;

    // Codec state.
    private long memberProduced;
    private int next; // snappy: next block; lz4: next block header
    private boolean snappyRaw;
    private int lz4BlockMax;
    private boolean lz4BlockChecksum;
    private boolean lz4ContentChecksum;

    public CompressedRecords() {
    }

    /**
     * Checks the inner records of {@code batch} (whose header {@link RecordBatch#validate} found VALID and whose
     * codec is not NONE), decompressing at most {@code maxInnerBytes} bytes. Never throws for any content of the
     * batch; on a non-VALID answer {@link #reason()} says why. Keeps no reference to the batch's buffer afterwards.
     */
    public Result validate(RecordBatch batch, long maxInnerBytes) {
        Compression c = Compression.forId(batch.compression());
        if (c == null) {
            reason = "compression type " + batch.compression() + " is not defined";
            return Result.UNSUPPORTED;
        }
        if (c == Compression.NONE) {
            reason = null;
            return batch.validateRecords(new Varints.Cursor()) ? Result.VALID : corruptResult("malformed records");
        }
        return begin(batch, c, maxInnerBytes, false);
    }

    /**
     * Decompresses the inner records of {@code batch} (header VALID, codec not NONE) into a reused heap buffer, as
     * an uncompressed batch at index 0 of {@link #inflated()}: the header copied, the codec bits cleared, batchLength
     * set to the decompressed size (the CRC is not recomputed), the records after it. Checks the stream as
     * {@link #validate} does (at most {@code maxInnerBytes} bytes out, trailers, frames) but not the records: the
     * caller walks them once in memory ({@link RecordBatch#validateRecords(Varints.Cursor, byte[],
     * RecordBatch.RecordSink)}, which checks what {@link #validate}'s walk checks, and can collect each record's
     * place meanwhile). The buffer grows to the largest batch inflated so far (doubling, so per batch only when a
     * batch is larger than any before); one above 4 MiB is dropped at the next call. The result stays valid until
     * the next call on this instance. Never throws for any content of the batch.
     */
    public Result inflate(RecordBatch batch, long maxInnerBytes) {
        Compression c = Compression.forId(batch.compression());
        if (c == null || c == Compression.NONE) {
            reason = "compression type " + batch.compression() + " cannot be inflated";
            return Result.UNSUPPORTED;
        }
        if (inflated.capacity() > INFLATED_RETAIN_LIMIT) {
            inflated = ByteBuffer.allocate(CHUNK);
        }
        inflatedSize = 0;
        return begin(batch, c, maxInnerBytes, true);
    }

    /**
     * The decoder run shared by {@link #validate} and {@link #inflate}: resets the decoder state, sets the input,
     * reads the codec's header, then either walks the records ({@code inflating} false) or copies the inner bytes
     * out ({@link #copyInflated}); a codec library's exception becomes CORRUPT, and the input is released in every
     * case.
     */
    private Result begin(RecordBatch batch, Compression c, long maxInnerBytes, boolean inflating) {
        codec = c;
        maxInner = maxInnerBytes;
        produced = 0;
        ended = false;
        failure = null;
        reason = null;
        cur = chunk;
        pos = 0;
        lim = 0;
        try {
            setInput(batch);
            Result r = start();
            if (r != Result.VALID) {
                return r;
            }
            return inflating ? copyInflated(batch) : walk(batch.recordsCount());
        } catch (RuntimeException e) {
            // A codec library's exception for input it cannot decode (ZstdException, LZ4Exception, ...).
            return corruptResult(codec.kafkaName + " stream is malformed (" + e.getClass().getSimpleName() + ")");
        } finally {
            release();
        }
    }

    /** {@link #inflate}'s body after the codec header: the batch header, then every inner chunk, into the buffer. */
    private Result copyInflated(RecordBatch batch) {
        int at = RecordBatch.RECORDS_OFFSET;
        ensureInflated(at);
        inflated.put(0, batch.buffer(), batch.offset(), RecordBatch.RECORDS_OFFSET);
        while (refill()) {
            int n = lim - pos;
            ensureInflated(at + n);
            inflated.put(at, cur, pos, n);
            at += n;
            pos = lim;
        }
        if (failure != null) {
            return failure;
        }
        inflated.putInt(RecordBatch.LENGTH_OFFSET, at - RecordBatch.LOG_OVERHEAD);
        short attributes = inflated.getShort(RecordBatch.ATTRIBUTES_OFFSET);
        inflated.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) (attributes & ~RecordBatch.COMPRESSION_MASK));
        inflatedSize = at;
        return Result.VALID;
    }

    /** The buffer {@link #inflate} wrote the uncompressed batch to (at index 0; {@link #inflatedSize()} bytes). */
    public ByteBuffer inflated() {
        return inflated;
    }

    /** Bytes of the last VALID {@link #inflate}'s uncompressed batch (header included); 0 otherwise. */
    public int inflatedSize() {
        return inflatedSize;
    }

    /** Sets the reason (and CORRUPT) when the caller's walk of the inflated records found them malformed. */
    public Result recordsMalformed(String why) {
        failure = null;
        corruptResult(why);
        return failure;
    }

    private void ensureInflated(int n) {
        if (inflated.capacity() >= n) {
            return;
        }
        int capacity = (int) Math.max(n, Math.min(Integer.MAX_VALUE - 64, 2L * inflated.capacity()));
        ByteBuffer grown = ByteBuffer.allocate(capacity);
        grown.put(0, inflated, 0, inflated.capacity());
        inflated = grown;
    }

    /** Why the last {@link #validate} did not answer VALID; null after VALID. */
    public String reason() {
        return reason;
    }

    private void setInput(RecordBatch batch) {
        ByteBuffer src = batch.buffer();
        int start = batch.offset() + RecordBatch.RECORDS_OFFSET;
        int length = batch.sizeInBytes() - RecordBatch.RECORDS_OFFSET;
        if (src.isDirect()) {
            // The batch's own buffer, its position and limit moved while walking and restored after (release):
            // no duplicate() per batch. The caller owns the buffer and does not use it meanwhile.
            in = src;
            savedPosition = src.position();
            savedLimit = src.limit();
            inStart = start;
        } else {
            if (directCopy.capacity() < length) {
                directCopy = ByteBuffer.allocateDirect(length);
            }
            directCopy.clear();
            directCopy.put(0, src, start, length);
            in = directCopy;
            inStart = 0;
        }
        inEnd = inStart + length;
        in.limit(in.capacity()).position(inStart);
        in.limit(inEnd);
    }

    private void release() {
        if (savedLimit >= 0) {
            in.limit(savedLimit).position(savedPosition);
            savedLimit = -1;
        }
        in = null;
        cur = null;
        if (inflater != null) {
            inflater.reset(); // drops its reference to the input buffer
        }
        if (blockOut.capacity() > RETAIN_LIMIT) {
            blockOut = ByteBuffer.allocateDirect(CHUNK);
        }
        if (directCopy.capacity() > RETAIN_LIMIT) {
            directCopy = ByteBuffer.allocateDirect(CHUNK);
        }
    }

    private Result start() throws RuntimeException {
        switch (codec) {
            case GZIP:
                if (inflater == null) {
                    inflater = new Inflater(true);
                }
                return gzipMember(inStart) ? Result.VALID : failure;
            case SNAPPY:
                snappyRaw = !startsWith(XERIAL_MAGIC);
                if (!snappyRaw && inEnd - inStart < XERIAL_HEADER) {
                    return corruptResult("snappy: truncated xerial header");
                }
                next = snappyRaw ? inStart : inStart + XERIAL_HEADER;
                return Result.VALID;
            case LZ4:
                return lz4Header();
            case ZSTD:
                if (zstd == null) {
                    zstd = new ZstdDecompressCtx();
                }
                zstd.reset();
                return zstdFrameHeader(inStart) ? Result.VALID : failure;
            default:
                return corruptResult("unexpected codec");
        }
    }

    // ------------------------------------------------------------------ the record walk

    private Result walk(int count) {
        for (int i = 0; i < count; i++) {
            int length = varint();
            if (failure != null) {
                return failure;
            }
            if (length < 1) {
                return corruptResult("record " + i + ": length " + length);
            }
            long start = consumed();
            readByte(); // attributes
            varlong(); // timestamp delta
            int offsetDelta = varint();
            if (failure == null && offsetDelta != i) {
                return corruptResult("record " + i + ": offset delta " + offsetDelta);
            }
            int keyLength = varint();
            if (failure == null && keyLength < -1) {
                return corruptResult("record " + i + ": key length " + keyLength);
            }
            skip(keyLength);
            int valueLength = varint();
            if (failure == null && valueLength < -1) {
                return corruptResult("record " + i + ": value length " + valueLength);
            }
            skip(valueLength);
            int headers = varint();
            if (failure == null && headers < 0) {
                return corruptResult("record " + i + ": header count " + headers);
            }
            for (int h = 0; h < headers && failure == null; h++) {
                int hk = varint();
                if (failure == null && hk < 0) {
                    return corruptResult("record " + i + ": header key length " + hk);
                }
                skip(hk);
                int hv = varint();
                if (failure == null && hv < -1) {
                    return corruptResult("record " + i + ": header value length " + hv);
                }
                skip(hv);
            }
            if (failure != null) {
                return failure;
            }
            if (consumed() - start != length) {
                return corruptResult("record " + i + ": length " + length + " but " + (consumed() - start)
                    + " bytes of fields");
            }
        }
        if (pos < lim || refill()) {
            return corruptResult("bytes after the last of " + count + " records");
        }
        return failure != null ? failure : Result.VALID;
    }

    private long consumed() {
        return produced - (lim - pos);
    }

    private int readByte() {
        if (pos == lim && !refill()) {
            truncated();
            return 0;
        }
        return cur.get(pos++);
    }

    private void truncated() {
        if (failure == null) {
            corruptResult("the records end early (fewer than recordsCount, or a field runs past the end)");
        }
    }

    private int varint() {
        int raw = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = readByte();
            if (failure != null) {
                return 0;
            }
            raw |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        corruptResult("malformed varint");
        return 0;
    }

    private long varlong() {
        long raw = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            int b = readByte();
            if (failure != null) {
                return 0;
            }
            raw |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        corruptResult("malformed varlong");
        return 0;
    }

    private void skip(int n) {
        while (n > 0 && failure == null) {
            if (pos == lim && !refill()) {
                truncated();
                return;
            }
            int take = Math.min(n, lim - pos);
            pos += take;
            n -= take;
        }
    }

    /** Makes the next non-empty chunk current; false at the end of the stream or on failure. */
    private boolean refill() {
        while (!ended && failure == null) {
            int n;
            switch (codec) {
                case GZIP:
                    n = gzipChunk();
                    break;
                case SNAPPY:
                    n = snappyChunk();
                    break;
                case LZ4:
                    n = lz4Chunk();
                    break;
                case ZSTD:
                    n = zstdChunk();
                    break;
                default:
                    n = -1;
            }
            if (n < 0) {
                ended = true;
                return false;
            }
            if (n > 0) {
                produced += n;
                if (produced > maxInner) {
                    ended = true;
                    failure = Result.TOO_LARGE;
                    reason = "more than " + maxInner + " bytes after decompression";
                    return false;
                }
                return true;
            }
        }
        return false;
    }

    private void serve(ByteBuffer buffer, int from, int to) {
        cur = buffer;
        pos = from;
        lim = to;
    }

    private Result corruptResult(String why) {
        if (failure == null) {
            failure = Result.CORRUPT;
            reason = (codec == null ? "" : codec.kafkaName + ": ") + why;
        }
        ended = true;
        return failure;
    }

    private int corrupt(String why) {
        corruptResult(why);
        return -1;
    }

    private boolean startsWith(byte[] magic) {
        if (inEnd - inStart < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (in.get(inStart + i) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private int intLe(int index) {
        return Integer.reverseBytes(in.getInt(index));
    }

    private void window(int from, int to) {
        in.limit(in.capacity()).position(from);
        in.limit(to);
    }

    // ------------------------------------------------------------------ gzip

    /** Parses a member header at {@code at} and points the inflater at its deflate data. */
    private boolean gzipMember(int at) {
        int p = at;
        if (inEnd - p < 10 || (in.get(p) & 0xFF) != 0x1F || (in.get(p + 1) & 0xFF) != 0x8B || in.get(p + 2) != 8) {
            corruptResult("not a gzip member header");
            return false;
        }
        int flags = in.get(p + 3) & 0xFF;
        if ((flags & 0xE0) != 0) {
            corruptResult("gzip reserved flags set");
            return false;
        }
        p += 10;
        if ((flags & 4) != 0) { // FEXTRA
            if (inEnd - p < 2) {
                corruptResult("truncated gzip header");
                return false;
            }
            int xlen = (in.get(p) & 0xFF) | (in.get(p + 1) & 0xFF) << 8;
            p += 2 + xlen;
        }
        for (int bit = 8; bit <= 16; bit <<= 1) { // FNAME, FCOMMENT: zero-terminated
            if ((flags & bit) != 0) {
                while (p < inEnd && in.get(p) != 0) {
                    p++;
                }
                p++;
            }
        }
        if ((flags & 2) != 0) { // FHCRC
            p += 2;
        }
        if (p > inEnd) {
            corruptResult("truncated gzip header");
            return false;
        }
        inflater.reset();
        crc32.reset();
        memberProduced = 0;
        window(p, inEnd);
        inflater.setInput(in);
        return true;
    }

    private int gzipChunk() {
        for (int attempt = 0; attempt < 4; attempt++) {
            chunk.clear();
            int n;
            try {
                n = inflater.inflate(chunk);
            } catch (DataFormatException e) {
                return corrupt("malformed deflate data");
            }
            if (n > 0) {
                chunk.flip();
                crc32.update(chunk);
                memberProduced += n;
                serve(chunk, 0, n);
                return n;
            }
            if (inflater.finished()) {
                int trailer = inEnd - inflater.getRemaining();
                if (inEnd - trailer < 8) {
                    return corrupt("truncated gzip trailer");
                }
                if (intLe(trailer) != (int) crc32.getValue() || intLe(trailer + 4) != (int) memberProduced) {
                    return corrupt("gzip trailer CRC-32 or size does not match the data");
                }
                if (trailer + 8 == inEnd) {
                    return -1;
                }
                if (!gzipMember(trailer + 8)) {
                    return -1;
                }
                attempt = 0;
                continue;
            }
            if (inflater.needsInput() || inflater.needsDictionary()) {
                return corrupt("deflate data ends early");
            }
        }
        return corrupt("deflate makes no progress");
    }

    // ------------------------------------------------------------------ snappy

    private int snappyChunk() {
        in.limit(inEnd); // absolute reads check the limit, which the last block's window lowered
        int from;
        int to;
        if (snappyRaw) {
            if (next == inEnd) {
                return -1;
            }
            from = inStart;
            to = inEnd;
            next = inEnd;
        } else {
            if (next == inEnd) {
                return -1;
            }
            if (inEnd - next < 4) {
                return corrupt("truncated xerial block length");
            }
            int len = in.getInt(next);
            if (len < 0 || len > inEnd - next - 4) {
                return corrupt("xerial block length " + len + " runs past the batch");
            }
            from = next + 4;
            to = from + len;
            next = to;
        }
        window(from, to);
        int length;
        try {
            length = Snappy.uncompressedLength(in);
        } catch (IOException e) {
            return corrupt("malformed block");
        }
        if (length < 0 || length > maxInner - produced) {
            failure = Result.TOO_LARGE;
            reason = "snappy: a block of " + length + " bytes is more than the " + maxInner
                + " bytes allowed after decompression";
            return -1;
        }
        if (blockOut.capacity() < length) {
            blockOut = ByteBuffer.allocateDirect(length);
        }
        blockOut.clear();
        int n;
        try {
            n = Snappy.uncompress(in, blockOut);
        } catch (IOException e) {
            return corrupt("malformed block");
        }
        if (n != length) {
            return corrupt("block decompressed to " + n + " bytes, not the " + length + " it announced");
        }
        serve(blockOut, 0, n);
        return n;
    }

    // ------------------------------------------------------------------ lz4

    private Result lz4Header() {
        int p = inStart;
        if (inEnd - p < 7 || intLe(p) != LZ4_MAGIC) {
            return corruptResult("not an LZ4 frame");
        }
        int flg = in.get(p + 4) & 0xFF;
        int bd = in.get(p + 5) & 0xFF;
        if ((flg >>> 6) != 1) {
            return corruptResult("LZ4 frame version " + (flg >>> 6));
        }
        if ((flg & 0x20) == 0) {
            return corruptResult("LZ4 frame with dependent blocks (Kafka decodes every block on its own)");
        }
        if ((flg & 0x01) != 0) {
            return corruptResult("LZ4 frame with a dictionary id");
        }
        int sizeCode = (bd >>> 4) & 7;
        if (sizeCode < 4 || (bd & 0x8F) != 0) {
            return corruptResult("LZ4 frame block descriptor " + bd);
        }
        lz4BlockMax = 1 << (8 + 2 * sizeCode);
        lz4BlockChecksum = (flg & 0x10) != 0;
        lz4ContentChecksum = (flg & 0x04) != 0;
        p += 6;
        if ((flg & 0x08) != 0) { // content size
            if (inEnd - p < 9) {
                return corruptResult("truncated LZ4 frame header");
            }
            long contentSize = Long.reverseBytes(in.getLong(p));
            if (contentSize < 0 || contentSize > maxInner) {
                failure = Result.TOO_LARGE;
                reason = "lz4: frame content size " + contentSize + " is more than " + maxInner;
                return failure;
            }
            p += 8;
        }
        p += 1; // header checksum (the batch CRC covers these bytes)
        if (p > inEnd) {
            return corruptResult("truncated LZ4 frame header");
        }
        next = p;
        if (lz4 == null) {
            lz4 = LZ4Factory.fastestInstance().safeDecompressor();
        }
        return Result.VALID;
    }

    private int lz4Chunk() {
        if (inEnd - next < 4) {
            return corrupt("truncated LZ4 block header (no end mark)");
        }
        int size = intLe(next);
        next += 4;
        if (size == 0) { // end mark
            if (lz4ContentChecksum) {
                next += 4;
            }
            if (next != inEnd) {
                return corrupt(next > inEnd ? "truncated LZ4 content checksum" : "bytes after the LZ4 frame");
            }
            return -1;
        }
        boolean stored = size < 0;
        int len = size & 0x7FFFFFFF;
        int checksum = lz4BlockChecksum ? 4 : 0;
        if (len > lz4BlockMax || len > inEnd - next - checksum) {
            return corrupt("LZ4 block of " + len + " bytes (block maximum " + lz4BlockMax + ", "
                + (inEnd - next) + " bytes left)");
        }
        int from = next;
        next += len + checksum;
        if (stored) {
            serve(in, from, from + len);
            return len;
        }
        if (blockOut.capacity() < lz4BlockMax) {
            blockOut = ByteBuffer.allocateDirect(lz4BlockMax);
        }
        blockOut.clear();
        int n = lz4.decompress(in, from, len, blockOut, 0, lz4BlockMax);
        serve(blockOut, 0, n);
        return n;
    }

    // ------------------------------------------------------------------ zstd

    /** Checks the frame header at {@code at}: no dictionary, a window and content size within the limit. */
    private boolean zstdFrameHeader(int at) {
        if (inEnd - at < 6 || intLe(at) != ZSTD_MAGIC) {
            corruptResult("not a zstd frame");
            return false;
        }
        int fhd = in.get(at + 4) & 0xFF;
        int fcsFlag = fhd >>> 6;
        boolean singleSegment = (fhd & 0x20) != 0;
        int dictFlag = fhd & 3;
        if ((fhd & 0x08) != 0) {
            corruptResult("zstd frame header reserved bit set");
            return false;
        }
        int p = at + 5;
        long window = -1;
        if (!singleSegment) {
            int wd = in.get(p++) & 0xFF;
            int windowLog = 10 + (wd >>> 3);
            long base = 1L << windowLog;
            window = base + (base >>> 3) * (wd & 7);
        }
        int dictSize = dictFlag == 0 ? 0 : 1 << (dictFlag - 1);
        for (int i = 0; i < dictSize; i++) {
            if (p + i < inEnd && in.get(p + i) != 0) {
                corruptResult("zstd frame needs a dictionary");
                return false;
            }
        }
        p += dictSize;
        int fcsSize = fcsFlag == 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
        if (inEnd - p < fcsSize) {
            corruptResult("truncated zstd frame header");
            return false;
        }
        long contentSize = -1;
        if (fcsSize > 0) {
            contentSize = 0;
            for (int i = fcsSize - 1; i >= 0; i--) {
                contentSize = (contentSize << 8) | (in.get(p + i) & 0xFF);
            }
            if (fcsSize == 2) {
                contentSize += 256;
            }
        }
        if (singleSegment) {
            window = contentSize;
        }
        if (window > Math.max(maxInner, ZSTD_MIN_WINDOW_ALLOWED) || window < 0 || contentSize > maxInner
            || (fcsSize == 8 && contentSize < 0)) {
            failure = Result.TOO_LARGE;
            reason = "zstd: frame window " + window + " or content size " + contentSize + " is more than the "
                + maxInner + " bytes allowed after decompression";
            return false;
        }
        window(at, inEnd);
        return true;
    }

    private int zstdChunk() {
        for (int attempt = 0; attempt < 4; attempt++) {
            chunk.clear();
            int before = in.position();
            boolean frameDone = zstd.decompressDirectByteBufferStream(chunk, in);
            int n = chunk.position();
            if (n > 0) {
                serve(chunk, 0, n);
                if (frameDone) {
                    zstdNextFrame(); // at the end of the input: ended, and this chunk is the last
                }
                return failure == null ? n : -1;
            }
            if (frameDone) {
                if (!zstdNextFrame()) {
                    return -1;
                }
                attempt = 0;
                continue;
            }
            if (!in.hasRemaining()) {
                return corrupt("zstd frame ends early");
            }
            if (in.position() == before) {
                continue;
            }
            attempt = 0;
        }
        return corrupt("zstd makes no progress");
    }

    /** After a frame: false at the end of the input (ended); another frame's header is checked. */
    private boolean zstdNextFrame() {
        if (!in.hasRemaining()) {
            ended = true;
            return false;
        }
        zstd.reset();
        return zstdFrameHeader(in.position());
    }
}
