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
 * @param repeats      de-duplication keys: for each record of the batch that was not stored because it repeats a
 *                     stored key, its offset delta and the offset of the original, as pairs
 *                     {@code [delta0, original0, delta1, original1, ...]} in delta order; null when none
 * @param logAppendTime the time the batch was stamped with on a LogAppendTime topic (Produce's log_append_time_ms);
 *                     -1 otherwise, and for a duplicate (its original's time is not kept)
 */
public record AppendResult(ErrorCode error, long baseOffset, long lastOffset, boolean duplicate,
                           String errorMessage, long[] repeats, long logAppendTime) implements AppendAnswer {

    public AppendResult(ErrorCode error, long baseOffset, long lastOffset, boolean duplicate, String errorMessage) {
        this(error, baseOffset, lastOffset, duplicate, errorMessage, null, -1L);
    }

    /** Appended, with {@code repeats} (see the component; may be null) dropped as repeats of stored keys. */
    public static AppendResult appended(long baseOffset, long lastOffset, long[] repeats) {
        return appended(baseOffset, lastOffset, repeats, -1L);
    }

    /** Appended, stamped {@code logAppendTime} (-1 on a CreateTime topic). */
    public static AppendResult appended(long baseOffset, long lastOffset, long[] repeats, long logAppendTime) {
        return new AppendResult(ErrorCode.NONE, baseOffset, lastOffset, false, null, repeats, logAppendTime);
    }

    @Override
    public int repeatCount() {
        return repeats == null ? 0 : repeats.length / 2;
    }

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
