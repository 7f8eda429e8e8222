package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;

/**
 * The outcome of appending one batch to a partition.
 *
 * @param error        NONE when appended or recognised as a duplicate; otherwise why the batch was rejected (and
 *                     nothing was appended)
 * @param baseOffset   offset of the batch's first record: the new one, or for a duplicate the ORIGINAL one;
 *                     -1 on error
 * @param lastOffset   offset of the batch's last record (what must be durable before acks=all answers); -1 on error
 * @param duplicate    true when the batch repeats one of the producer's last 5 and nothing was appended
 * @param errorMessage detail for the client (Produce v8+ error_message), or null
 */
public record AppendResult(ErrorCode error, long baseOffset, long lastOffset, boolean duplicate,
                           String errorMessage) {

    public static AppendResult appended(long baseOffset, long lastOffset) {
        return new AppendResult(ErrorCode.NONE, baseOffset, lastOffset, false, null);
    }

    public static AppendResult duplicate(long baseOffset, long lastOffset) {
        return new AppendResult(ErrorCode.NONE, baseOffset, lastOffset, true, null);
    }

    public static AppendResult error(ErrorCode error, String message) {
        return new AppendResult(error, -1L, -1L, false, message);
    }
}
