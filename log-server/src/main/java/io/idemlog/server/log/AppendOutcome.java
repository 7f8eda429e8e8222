package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;

import java.nio.ByteBuffer;

/**
 * The outcome of one append, written into an object the caller owns and reuses (one per thread: the server's
 * produce path keeps one per network thread), so that appending a batch allocates nothing: the same fields as
 * {@link AppendResult}, which is the immutable form the allocating {@link Partition#append(ByteBuffer, int, int,
 * FlushDuty)} returns. It also carries the thread's {@link RecordBatch} view of the batch being appended. Not
 * thread-safe; read it before the next append on the same thread.
 */
public final class AppendOutcome implements AppendAnswer {
    private final RecordBatch view = new RecordBatch();
    private ErrorCode error = ErrorCode.NONE;
    private long baseOffset = -1L;
    private long lastOffset = -1L;
    private boolean duplicate;
    private String errorMessage;
    private long[] repeats;
    private long logAppendTime = -1L;

    /** The view of the batch at {@code buffer[offset]}, for the append that is about to fill this outcome. */
    RecordBatch view(ByteBuffer buffer, int offset) {
        return view.wrap(buffer, offset);
    }

    /** Appended at {@code [baseOffset, lastOffset]}; see {@link AppendResult} for the other components. */
    void appended(long base, long last, long[] repeated, long appendTime) {
        error = ErrorCode.NONE;
        baseOffset = base;
        lastOffset = last;
        duplicate = false;
        errorMessage = null;
        repeats = repeated;
        logAppendTime = appendTime;
    }

    /** Copies {@code r} (a rejection or a duplicate: the paths that may allocate). */
    void set(AppendResult r) {
        error = r.error();
        baseOffset = r.baseOffset();
        lastOffset = r.lastOffset();
        duplicate = r.duplicate();
        errorMessage = r.errorMessage();
        repeats = r.repeats();
        logAppendTime = r.logAppendTime();
    }

    @Override
    public ErrorCode error() {
        return error;
    }

    @Override
    public long baseOffset() {
        return baseOffset;
    }

    @Override
    public long lastOffset() {
        return lastOffset;
    }

    @Override
    public boolean duplicate() {
        return duplicate;
    }

    @Override
    public String errorMessage() {
        return errorMessage;
    }

    @Override
    public long[] repeats() {
        return repeats;
    }

    @Override
    public int repeatCount() {
        return repeats == null ? 0 : repeats.length / 2;
    }

    @Override
    public long logAppendTime() {
        return logAppendTime;
    }

    /** The immutable form (allocates: for tests and callers that keep results). */
    public AppendResult toResult() {
        return new AppendResult(error, baseOffset, lastOffset, duplicate, errorMessage, repeats, logAppendTime);
    }
}
