package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;

/**
 * The checks of a produced batch that need no state, in the order the broker applies them (Kafka's order, so a
 * client sees the same error for the same bad batch). A pure function of the bytes: it runs outside the partition
 * lock, and it will run unchanged as part of a replicated state machine's apply step.
 */
final class ProduceBatchCheck {
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
     * <li>compressed -> UNSUPPORTED_COMPRESSION_TYPE;</li>
     * <li>transactional or control batch -> INVALID_RECORD (idemlog has no transactions).</li>
     * </ol>
     * The records themselves are checked later, after the producer state check, so that a duplicate costs no
     * per-record work.
     */
    static ErrorCode check(RecordBatch batch, int length, int maxBatchBytes) {
        if (length < RecordBatch.HEADER_SIZE) {
            return ErrorCode.CORRUPT_MESSAGE;
        }
        long size = (long) batch.batchLength() + RecordBatch.LOG_OVERHEAD;
        if (size < RecordBatch.HEADER_SIZE || size > length) {
            return ErrorCode.CORRUPT_MESSAGE;
        }
        if (size < length) {
            return ErrorCode.INVALID_RECORD;
        }
        if (size > maxBatchBytes) {
            return ErrorCode.MESSAGE_TOO_LARGE;
        }
        if (batch.magic() != RecordBatch.MAGIC) {
            return ErrorCode.INVALID_RECORD;
        }
        if (!batch.isCrcValid()) {
            return ErrorCode.CORRUPT_MESSAGE;
        }
        int count = batch.recordsCount();
        if (count < 1 || batch.lastOffsetDelta() != count - 1) {
            return ErrorCode.INVALID_RECORD;
        }
        if (batch.compression() != 0) {
            return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
        }
        if (batch.isTransactional() || batch.isControl()) {
            return ErrorCode.INVALID_RECORD;
        }
        return ErrorCode.NONE;
    }

    /** A human-readable reason for {@code error} (Produce v8+ error_message). */
    static String describe(ErrorCode error, RecordBatch batch, int length, int maxBatchBytes) {
        switch (error) {
            case CORRUPT_MESSAGE:
                if (length < RecordBatch.HEADER_SIZE) {
                    return "records hold " + length + " bytes, less than a batch header";
                }
                long size = (long) batch.batchLength() + RecordBatch.LOG_OVERHEAD;
                if (size < RecordBatch.HEADER_SIZE || size > length) {
                    return "batchLength " + batch.batchLength() + " does not fit the " + length + " bytes received";
                }
                return "CRC mismatch";
            case MESSAGE_TOO_LARGE:
                return "batch of " + length + " bytes is larger than the limit of " + maxBatchBytes;
            case UNSUPPORTED_COMPRESSION_TYPE:
                return "compression type " + batch.compression() + " is not supported";
            case INVALID_RECORD:
                if ((long) batch.batchLength() + RecordBatch.LOG_OVERHEAD < length) {
                    return "exactly one record batch per partition is allowed";
                }
                if (batch.magic() != RecordBatch.MAGIC) {
                    return "magic " + batch.magic() + " is not supported";
                }
                if (batch.isTransactional() || batch.isControl()) {
                    return "transactional and control batches are not supported";
                }
                return "lastOffsetDelta " + batch.lastOffsetDelta() + " does not match " + batch.recordsCount()
                    + " records";
            default:
                return null;
        }
    }
}
