package io.idemlog.server.replication;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.log.AppendOutcome;
import io.idemlog.server.log.AppendResult;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The layouts of a partition group's requests, Raft entries and replies (docs/REPLICATION.md 4.2).
 *
 * <pre>
 * request (proposer -> leader's state machine):  kind(1) [batch | logStartOffset(8) | config(UTF-8)]
 * entry   (startTransaction, the Raft log):      kind(1) leaderTimeMs(8) [batch | logStartOffset(8) | config(UTF-8)]
 * reply   (applyTransaction -> proposer):        status(1) error(2) baseOffset(8) lastOffset(8) logAppendTime(8)
 *                                                repeatsCount(4) repeats(8 each) message(UTF-8, rest)
 * </pre>
 *
 * One entry per batch (never per record); a {@link #TICK} entry carries only the leader's time (producer and key
 * expiry in log order); a {@link #LOG_START} entry the new log start offset (DeleteRecords, or retention decided by
 * the leader), whose reply carries the log start offset after apply as its baseOffset; a {@link #CONFIG} entry the
 * topic settings apply decides with from then on ({@link ReplicatedConfig}'s text). The leader's clock is
 * stamped once, in {@code startTransaction}; every replica applies the entry with that time, never its own clock.
 */
final class PartitionEntry {
    static final byte BATCH = 1;
    static final byte TICK = 2;
    static final byte LOG_START = 3;
    static final byte CONFIG = 4;
    static final int REQUEST_HEADER = 1;
    static final int ENTRY_HEADER = 9;
    /** A LOG_START request: kind and the offset. */
    static final int LOG_START_REQUEST = REQUEST_HEADER + 8;

    static final byte APPENDED = 0;
    static final byte DUPLICATE = 1;
    static final byte REFUSED = 2;

    private PartitionEntry() {
    }

    static ByteString tickRequest() {
        return UnsafeByteOperations.unsafeWrap(new byte[] {TICK});
    }

    static ByteString logStartRequest(long logStartOffset) {
        ByteBuffer b = ByteBuffer.allocate(LOG_START_REQUEST);
        b.put(LOG_START).putLong(logStartOffset).flip();
        return UnsafeByteOperations.unsafeWrap(b);
    }

    static ByteString configRequest(ReplicatedConfig config) {
        byte[] text = config.encode().getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[REQUEST_HEADER + text.length];
        b[0] = CONFIG;
        System.arraycopy(text, 0, b, REQUEST_HEADER, text.length);
        return UnsafeByteOperations.unsafeWrap(b);
    }

    /** The reply to a CONFIG entry: applied, or refused (an entry that cannot be decoded; the same everywhere). */
    static ByteString configReply(ErrorCode error, String message) {
        return reply(error != ErrorCode.NONE ? REFUSED : APPENDED, error, -1L, -1L, -1L, null, message);
    }

    /** The reply to a LOG_START entry: the log start offset after apply, or why it was refused. */
    static ByteString logStartReply(ErrorCode error, long logStartOffset, String message) {
        byte status = error != ErrorCode.NONE ? REFUSED : APPENDED;
        return reply(status, error, logStartOffset, logStartOffset, -1L, null, message);
    }

    /** The entry's header: what the leader adds in front of the request's batch. */
    static ByteString entryHeader(byte kind, long leaderTimeMs) {
        ByteBuffer b = ByteBuffer.allocate(ENTRY_HEADER);
        b.put(kind).putLong(leaderTimeMs).flip();
        return UnsafeByteOperations.unsafeWrap(b);
    }

    static ByteString reply(AppendOutcome out) {
        byte status = out.error() != ErrorCode.NONE ? REFUSED : out.duplicate() ? DUPLICATE : APPENDED;
        return reply(status, out.error(), out.baseOffset(), out.lastOffset(), out.logAppendTime(), out.repeats(),
            out.errorMessage());
    }

    private static ByteString reply(byte status, ErrorCode error, long base, long last, long appendTime,
                                    long[] repeats, String msg) {
        byte[] text = msg == null ? new byte[0] : msg.getBytes(StandardCharsets.UTF_8);
        int n = repeats == null ? 0 : repeats.length;
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + 8 + 8 + 8 + 4 + 8 * n + text.length);
        b.put(status).putShort(error.code).putLong(base).putLong(last).putLong(appendTime).putInt(n);
        for (int i = 0; i < n; i++) {
            b.putLong(repeats[i]);
        }
        b.put(text).flip();
        return UnsafeByteOperations.unsafeWrap(b);
    }

    static AppendResult parseReply(ByteString reply) {
        ByteBuffer b = reply.asReadOnlyByteBuffer();
        byte status = b.get();
        ErrorCode error = ErrorCode.forCode(b.getShort());
        long base = b.getLong();
        long last = b.getLong();
        long appendTime = b.getLong();
        int n = b.getInt();
        long[] repeats = null;
        if (n > 0) {
            repeats = new long[n];
            for (int i = 0; i < n; i++) {
                repeats[i] = b.getLong();
            }
        }
        byte[] text = new byte[b.remaining()];
        b.get(text);
        String message = text.length == 0 ? null : new String(text, StandardCharsets.UTF_8);
        return switch (status) {
            case APPENDED -> new AppendResult(ErrorCode.NONE, base, last, false, null, repeats, appendTime);
            case DUPLICATE -> AppendResult.duplicate(base, last);
            default -> AppendResult.error(error, message);
        };
    }
}
