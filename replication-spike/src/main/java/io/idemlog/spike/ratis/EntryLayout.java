package io.idemlog.spike.ratis;

import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

import java.nio.ByteBuffer;

/**
 * The bytes of one partition Raft entry's log data, and of the state machine's reply.
 *
 * <p>The leader builds the header in {@code startTransaction}: it copies the producer fields out of the batch (so
 * that apply can decide without the batch bytes, which in {@link Mode#SM_DATA} are not part of the log data) and
 * stamps its own clock ({@code leaderTimeMs}): apply never reads a clock, so every replica computes the same
 * producer state. In {@link Mode#DOUBLE_WRITE} and {@link Mode#LOG_ONLY} the batch follows the header in the same
 * log data; in {@link Mode#SM_DATA} it is the entry's state machine data.
 *
 * <pre>
 *  0  flags            1  INLINE (batch follows) or EXTERNAL (batch is the state machine data)
 *  1  leaderTimeMs     8  the leader's clock when it proposed the entry (LogAppendTime, producer last-write)
 *  9  producerId       8
 * 17  producerEpoch    2
 * 19  baseSequence     4
 * 23  lastOffsetDelta  4
 * 27  batchLength      4  bytes of the whole batch (log overhead included)
 * 31  (batch bytes when INLINE)
 * </pre>
 */
final class EntryLayout {
    static final byte INLINE = 1;
    static final byte EXTERNAL = 2;

    static final int FLAGS_OFFSET = 0;
    static final int LEADER_TIME_OFFSET = FLAGS_OFFSET + 1;
    static final int PRODUCER_ID_OFFSET = LEADER_TIME_OFFSET + 8;
    static final int PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + 8;
    static final int BASE_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + 2;
    static final int LAST_OFFSET_DELTA_OFFSET = BASE_SEQUENCE_OFFSET + 4;
    static final int BATCH_LENGTH_OFFSET = LAST_OFFSET_DELTA_OFFSET + 4;
    static final int HEADER_SIZE = BATCH_LENGTH_OFFSET + 4;

    /** Reply: outcome, Kafka error code, base offset, last offset (the ORIGINAL ones for a duplicate). */
    static final int REPLY_OUTCOME_OFFSET = 0;
    static final int REPLY_ERROR_OFFSET = REPLY_OUTCOME_OFFSET + 1;
    static final int REPLY_BASE_OFFSET_OFFSET = REPLY_ERROR_OFFSET + 2;
    static final int REPLY_LAST_OFFSET_OFFSET = REPLY_BASE_OFFSET_OFFSET + 8;
    static final int REPLY_SIZE = REPLY_LAST_OFFSET_OFFSET + 8;

    static final byte APPENDED = 0;
    static final byte DUPLICATE = 1;
    static final byte REJECTED = 2;

    private EntryLayout() {
    }

    static ByteString header(byte flags, long leaderTimeMs, long producerId, short epoch, int baseSequence,
                             int lastOffsetDelta, int batchLength) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE);
        b.put(FLAGS_OFFSET, flags);
        b.putLong(LEADER_TIME_OFFSET, leaderTimeMs);
        b.putLong(PRODUCER_ID_OFFSET, producerId);
        b.putShort(PRODUCER_EPOCH_OFFSET, epoch);
        b.putInt(BASE_SEQUENCE_OFFSET, baseSequence);
        b.putInt(LAST_OFFSET_DELTA_OFFSET, lastOffsetDelta);
        b.putInt(BATCH_LENGTH_OFFSET, batchLength);
        return ByteString.copyFrom(b.array());
    }

    static ByteString reply(byte outcome, short errorCode, long baseOffset, long lastOffset) {
        ByteBuffer b = ByteBuffer.allocate(REPLY_SIZE);
        b.put(REPLY_OUTCOME_OFFSET, outcome);
        b.putShort(REPLY_ERROR_OFFSET, errorCode);
        b.putLong(REPLY_BASE_OFFSET_OFFSET, baseOffset);
        b.putLong(REPLY_LAST_OFFSET_OFFSET, lastOffset);
        return ByteString.copyFrom(b.array());
    }
}
