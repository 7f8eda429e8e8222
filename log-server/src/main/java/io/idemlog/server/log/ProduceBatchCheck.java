package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.CompressedRecords;
import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordBatch;

/**
 * The checks of a produced batch that need no state, in the order the broker applies them (Kafka's order, so a
 * client sees the same error for the same bad batch). A pure function of the bytes: it runs outside the partition
 * lock, and it will run unchanged as part of a replicated state machine's apply step.
 */
final class ProduceBatchCheck {
    /** One inner-records validator per thread that appends (its buffers are reused batch after batch). */
    private static final ThreadLocal<CompressedRecords> INNER = ThreadLocal.withInitial(CompressedRecords::new);

    private ProduceBatchCheck() {
    }

    /**
     * Checks that {@code length} bytes at the flyweight's offset are exactly one acceptable batch header, and
     * returns NONE or the error to answer:
     * <ol>
     * <li>fewer bytes than a header, a batchLength below a header or past the end -> CORRUPT_MESSAGE;</li>
     * <li>bytes after the batch (a second batch) -> INVALID_RECORD;</li>
     * <li>larger than {@code maxBatchBytes} -> MESSAGE_TOO_LARGE;</li>
     * <li>magic other than 2 -> INVALID_RECORD;</li>
     * <li>CRC mismatch -> CORRUPT_MESSAGE;</li>
     * <li>lastOffsetDelta != recordsCount - 1 (or no record) -> INVALID_RECORD;</li>
     * <li>codec id 5-7 -> UNSUPPORTED_COMPRESSION_TYPE;</li>
     * <li>transactional or control batch -> INVALID_RECORD (idemlog has no transactions);</li>
     * <li>compressed (gzip, snappy, lz4, zstd): the inner records, by streaming decompression
     * ({@link CompressedRecords}): malformed stream or records -> CORRUPT_MESSAGE; more than
     * {@link #maxInnerBytes} after decompression -> MESSAGE_TOO_LARGE.</li>
     * </ol>
     * The header checks are {@link RecordBatch#validate}'s (the one header check of the code base, also run by
     * recovery, reads and the verifier); this maps its answers to Kafka's error codes. The records of an
     * uncompressed batch are checked later, after the producer state check, so that a duplicate costs no
     * per-record work; those of a compressed batch are checked here, outside the partition lock, because
     * decompression costs far more than the walk and must not hold up the partition's other producers.
     */
    static ErrorCode check(RecordBatch batch, int length, int maxBatchBytes) {
        return check(batch, length, maxBatchBytes, null);
    }

    /**
     * {@link #check(RecordBatch, int, int)} for a partition that de-duplicates by the header {@code dedupHeader}
     * (UTF-8; null: it does not): the inner records of a compressed batch are then decompressed into this thread's
     * {@link CompressedBatchKeys} instead of streamed, and the one validating walk of them also finds each record's
     * key (hash and place), which the partition lock then only looks up. Same answers, same order.
     */
    static ErrorCode check(RecordBatch batch, int length, int maxBatchBytes, byte[] dedupHeader) {
        if (length >= RecordBatch.HEADER_SIZE) {
            long size = (long) batch.batchLength() + RecordBatch.LOG_OVERHEAD;
            if (size >= RecordBatch.HEADER_SIZE && size < length) {
                return ErrorCode.INVALID_RECORD;
            }
        }
        switch (batch.validate(length, maxBatchBytes)) {
            case VALID:
                break;
            case TOO_LARGE:
                return ErrorCode.MESSAGE_TOO_LARGE;
            case BAD_MAGIC:
            case BAD_COUNT:
                return ErrorCode.INVALID_RECORD;
            default: // TRUNCATED, BAD_LENGTH, BAD_CRC (BAD_RECORDS is not a header check)
                return ErrorCode.CORRUPT_MESSAGE;
        }
        if (Compression.forId(batch.compression()) == null) {
            return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
        }
        if (batch.isTransactional() || batch.isControl()) {
            return ErrorCode.INVALID_RECORD;
        }
        if (batch.compression() != 0) {
            CompressedBatchKeys compressed = CompressedBatchKeys.forThread();
            compressed.clear();
            if (dedupHeader != null) {
                return compressed.prepare(batch, dedupHeader, maxInnerBytes(maxBatchBytes));
            }
            switch (INNER.get().validate(batch, maxInnerBytes(maxBatchBytes))) {
                case VALID:
                    break;
                case TOO_LARGE:
                    return ErrorCode.MESSAGE_TOO_LARGE;
                case UNSUPPORTED:
                    return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
                default:
                    return ErrorCode.CORRUPT_MESSAGE;
            }
        }
        return ErrorCode.NONE;
    }

    /**
     * The most bytes a compressed batch may decompress to: 16 times the largest batch accepted (about 16 MiB by
     * default). Kafka's producers size a compressed batch by its compressed size, so text-like data decompresses to
     * a few times its batch size; the bound caps what a "zip bomb" costs in CPU. A batch over it is answered
     * MESSAGE_TOO_LARGE, which makes kafka-clients split the batch and retry.
     */
    static long maxInnerBytes(int maxBatchBytes) {
        return Math.min(16L * maxBatchBytes, Integer.MAX_VALUE);
    }

    /** A human-readable reason for {@code error} (Produce v8+ error_message). */
    static String describe(ErrorCode error, RecordBatch batch, int length, int maxBatchBytes) {
        if (length >= RecordBatch.HEADER_SIZE && (long) batch.batchLength() + RecordBatch.LOG_OVERHEAD < length
            && (long) batch.batchLength() + RecordBatch.LOG_OVERHEAD >= RecordBatch.HEADER_SIZE) {
            return "exactly one record batch per partition is allowed";
        }
        RecordBatch.Validation validation = batch.validate(length, maxBatchBytes);
        if (validation != RecordBatch.Validation.VALID) {
            return batch.describe(validation, length, maxBatchBytes);
        }
        if (batch.compression() != 0 && Compression.forId(batch.compression()) != null
            && !batch.isTransactional() && !batch.isControl() && error != ErrorCode.NONE) {
            // Asked right after check() on the same thread: the inner validator still holds its answer.
            String reason = CompressedBatchKeys.forThread().reason();
            return "compressed batch refused: " + (reason != null ? reason : INNER.get().reason());
        }
        switch (error) {
            case UNSUPPORTED_COMPRESSION_TYPE:
                return "compression type " + batch.compression() + " is not supported (0-4 are defined)";
            case INVALID_RECORD:
                return "transactional and control batches are not supported";
            default:
                return null;
        }
    }
}
