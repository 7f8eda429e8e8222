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
     * The header checks are {@link RecordBatch#validate}'s (the one header check of the code base, also run by
     * recovery, reads and the verifier); this maps its answers to Kafka's error codes. The records themselves are
     * checked later, after the producer state check, so that a duplicate costs no per-record work.
     */
    static ErrorCode check(RecordBatch batch, int length, int maxBatchBytes) {
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
        if (length >= RecordBatch.HEADER_SIZE && (long) batch.batchLength() + RecordBatch.LOG_OVERHEAD < length
            && (long) batch.batchLength() + RecordBatch.LOG_OVERHEAD >= RecordBatch.HEADER_SIZE) {
            return "exactly one record batch per partition is allowed";
        }
        RecordBatch.Validation validation = batch.validate(length, maxBatchBytes);
        if (validation != RecordBatch.Validation.VALID) {
            return batch.describe(validation, length, maxBatchBytes);
        }
        switch (error) {
            case UNSUPPORTED_COMPRESSION_TYPE:
                return "compression type " + batch.compression() + " is not supported";
            case INVALID_RECORD:
                return "transactional and control batches are not supported";
            default:
                return null;
        }
    }
}
