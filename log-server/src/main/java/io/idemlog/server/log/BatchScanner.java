package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads a segment file sequentially, one whole batch at a time, through one large buffer (recovery and producer
 * state replay: a few big reads instead of a system call per batch). Checks only that each batch's length field is
 * plausible and that the batch is entirely in the file; the caller checks magic, CRC and offsets on
 * {@link #batch()}, or lets {@link #walk} check each batch as the log does. Not thread-safe.
 */
final class BatchScanner {
    /** What {@link #next()} found. */
    enum Status {
        /** A whole batch: {@link #batch()} and {@link #position()} describe it. */
        BATCH,
        /** The scanned range ends exactly after the previous batch. */
        END,
        /** Bytes remain that are not a whole batch (a torn write, or garbage): {@link #position()} is where. */
        TORN
    }

    private static final int DEFAULT_BUFFER_SIZE = 1 << 20;

    private final RecordBatch batch = new RecordBatch();
    private ByteBuffer buffer = ByteBuffer.allocate(DEFAULT_BUFFER_SIZE);
    private FileChannel channel;
    private long end;
    /** File position of buffer index 0. */
    private long bufferStart;
    /** File position of the next batch. */
    private long nextPosition;
    /** File position of the batch last returned (or of the torn bytes). */
    private long position;

    /** Scans {@code channel} from {@code start} (a batch boundary) to {@code end} (the file's size, usually). */
    BatchScanner open(FileChannel channel, long start, long end) {
        this.channel = channel;
        this.end = end;
        this.bufferStart = start;
        this.nextPosition = start;
        this.position = start;
        buffer.clear().limit(0);
        return this;
    }

    Status next() throws IOException {
        position = nextPosition;
        long remaining = end - nextPosition;
        if (remaining == 0) {
            return Status.END;
        }
        if (remaining < RecordBatch.HEADER_SIZE || !ensure(RecordBatch.LOG_OVERHEAD)) {
            return Status.TORN;
        }
        int index = (int) (nextPosition - bufferStart);
        int length = buffer.getInt(index + RecordBatch.LENGTH_OFFSET);
        long size = (long) length + RecordBatch.LOG_OVERHEAD;
        if (length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD || size > remaining || !ensure((int) size)) {
            return Status.TORN;
        }
        index = (int) (nextPosition - bufferStart);
        batch.wrap(buffer, index);
        nextPosition += size;
        return Status.BATCH;
    }

    /** The batch found by the last {@link #next()}, valid until the next call. */
    RecordBatch batch() {
        return batch;
    }

    /** File position of the batch (or torn bytes) found by the last {@link #next()}. */
    long position() {
        return position;
    }

    /** Sees each good batch of a {@link #walk}; may stop the walk with a problem of its own. */
    @FunctionalInterface
    interface Visitor {
        /** @return null to go on, or what is wrong with this batch (the walk stops at it) */
        String visit(RecordBatch batch, long position) throws IOException;
    }

    /**
     * Where a {@link #walk} stopped: the file position of the end, of the torn bytes or of the batch found wrong; the
     * offset the next batch would have had; why it stopped (null: it reached the end).
     */
    record Walk(long position, long nextOffset, String problem) {
    }

    /**
     * The one walk over stored batches that segment recovery, index rebuilds and the offline data-dir tool share:
     * from the {@link #open} position, each batch must be whole ({@code tornProblem} otherwise) and valid with the
     * offset that follows on from {@code expectedOffset} ({@link LogSegment#invalidStoredBatch}); {@code visitor}
     * sees each such batch and may stop the walk. Stops at the end or at the first problem.
     */
    Walk walk(long expectedOffset, String tornProblem, Visitor visitor) throws IOException {
        long expected = expectedOffset;
        while (true) {
            Status status = next();
            if (status == Status.END) {
                return new Walk(position, expected, null);
            }
            if (status == Status.TORN) {
                return new Walk(position, expected, tornProblem);
            }
            String problem = LogSegment.invalidStoredBatch(batch, expected);
            if (problem == null) {
                problem = visitor.visit(batch, position);
            }
            if (problem != null) {
                return new Walk(position, expected, problem);
            }
            expected = batch.lastOffset() + 1;
        }
    }

    /** Makes {@code bytes} bytes from {@link #nextPosition} available in the buffer; false at end of file. */
    private boolean ensure(int bytes) throws IOException {
        int index = (int) (nextPosition - bufferStart);
        int valid = buffer.limit() - index;
        if (valid >= bytes) {
            return true;
        }
        // Move the bytes already read for nextPosition to the front (of a bigger buffer for a big batch), then fill.
        ByteBuffer target = bytes > buffer.capacity() ? ByteBuffer.allocate(bytes) : buffer;
        System.arraycopy(buffer.array(), index, target.array(), 0, valid);
        buffer = target;
        bufferStart = nextPosition;
        long readAt = bufferStart + valid;
        int wanted = (int) Math.min(buffer.capacity() - valid, end - readAt);
        buffer.limit(valid + wanted).position(valid);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, bufferStart + buffer.position()) < 0) {
                break;
            }
        }
        buffer.limit(buffer.position());
        return buffer.limit() >= bytes;
    }
}
