package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.CompressedRecords;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordsCompressor;
import io.idemlog.common.record.Varints;

/**
 * De-duplication keys of a compressed batch, found outside the partition lock (issue 11, docs/DEDUP.md "Compressed
 * batches"). One per appending thread: {@link ProduceBatchCheck} decompresses the batch once into this thread's
 * buffer and walks its records there (the validating walk, which also finds each record's key, hashes it and notes
 * where it is: {@link DedupFilter#validate}); under the partition lock {@link DedupFilter#scan} only looks the keys
 * up. A batch without repeats is stored as it came (its compressed bytes); a batch with repeats is rebuilt here
 * ({@link #rebuild}): the decompressed copy compacted exactly as an uncompressed batch is, then its records
 * compressed again with the batch's own codec.
 *
 * <p>Allocation: nothing per record; the decompression buffer and the filter's arrays grow with the largest batch
 * seen (per batch only when a batch is larger than any before). {@link #rebuild} allocates per batch (the
 * compressor's header flyweight, a grown scratch buffer), and runs only for a batch with repeats.
 */
final class CompressedBatchKeys {
    private static final ThreadLocal<CompressedBatchKeys> THREAD = ThreadLocal.withInitial(CompressedBatchKeys::new);

    private final CompressedRecords inner = new CompressedRecords();
    private final DedupFilter filter = new DedupFilter(DedupConfig.OFF);
    private final Varints.Cursor cursor = new Varints.Cursor();
    private final RecordBatch view = new RecordBatch();
    private RecordsCompressor compressor;
    /** What the current preparation was made for (identity), or null: none since the last {@link #clear}. */
    private byte[] header;
    private RecordBatch source;
    private int sourceOffset;
    private String reason;

    private CompressedBatchKeys() {
    }

    static CompressedBatchKeys forThread() {
        return THREAD.get();
    }

    /** Forgets the last preparation (every produced batch starts with this, so a stale one is never taken). */
    void clear() {
        header = null;
        source = null;
        reason = null;
    }

    /**
     * Decompresses {@code batch} (header valid, compressed) and walks its records, finding each record's value of
     * header {@code headerName}. Returns NONE, CORRUPT_MESSAGE, MESSAGE_TOO_LARGE or UNSUPPORTED_COMPRESSION_TYPE
     * ({@link #reason()} says why).
     */
    ErrorCode prepare(RecordBatch batch, byte[] headerName, long maxInnerBytes) {
        clear();
        switch (inner.inflate(batch, maxInnerBytes)) {
            case VALID:
                break;
            case TOO_LARGE:
                reason = inner.reason();
                return ErrorCode.MESSAGE_TOO_LARGE;
            case UNSUPPORTED:
                reason = inner.reason();
                return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
            default:
                reason = inner.reason();
                return ErrorCode.CORRUPT_MESSAGE;
        }
        view.wrap(inner.inflated(), 0);
        filter.configure(headerName);
        if (!filter.validate(view, cursor)) {
            reason = "the records inside the " + Compression.forId(batch.compression()).kafkaName
                + " stream are malformed";
            return ErrorCode.CORRUPT_MESSAGE;
        }
        header = headerName;
        source = batch;
        sourceOffset = batch.offset();
        return ErrorCode.NONE;
    }

    /** Whether {@link #prepare} ran for {@code batch} with {@code headerName} (the same array) since {@link #clear}. */
    boolean preparedFor(RecordBatch batch, byte[] headerName) {
        return header != null && header == headerName && source == batch && sourceOffset == batch.offset();
    }

    String reason() {
        return reason;
    }

    /** The filter holding the prepared batch's keys (scan, commit and the answer use it). */
    DedupFilter filter() {
        return filter;
    }

    /** The prepared batch, decompressed (an uncompressed batch at index 0 of this thread's buffer). */
    RecordBatch batch() {
        return view;
    }

    /**
     * After {@link DedupFilter#scan} found repeats: compacts the decompressed batch (holes, same baseOffset and
     * lastOffsetDelta, new count, length, maxTimestamp) and compresses the surviving records again with {@code codec}
     * (the original batch's), at the codec's default level. Returns the size of the rebuilt batch, which is then at
     * index 0 of {@code batch().buffer()}, CRC valid. A batch of only repeats stays an empty batch with the codec bits
     * cleared (as Kafka's log cleaner writes an empty batch: there is nothing to decompress). Should the compressed
     * records not fit in the buffer (incompressible survivors; never smaller than the records uncompressed), the
     * batch is stored uncompressed: any reader takes either.
     */
    int rebuild(int codecId) {
        int size = filter.compact(view);
        if (view.recordsCount() == 0) {
            return size;
        }
        if (compressor == null) {
            compressor = new RecordsCompressor();
        }
        Compression codec = Compression.forId(codecId);
        int level = switch (codec) {
            case GZIP -> RecordsCompressor.GZIP_DEFAULT_LEVEL;
            case LZ4 -> RecordsCompressor.LZ4_DEFAULT_LEVEL;
            case ZSTD -> RecordsCompressor.ZSTD_DEFAULT_LEVEL;
            default -> 0;
        };
        return compressor.compressInPlace(view.buffer(), size, codec, level);
    }
}
