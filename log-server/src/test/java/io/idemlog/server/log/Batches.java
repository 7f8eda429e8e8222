package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Builds produced batches the way a producer sends them, in direct buffers (as Netty hands them over). */
final class Batches {
    private Batches() {
    }

    /** A non-idempotent batch of {@code records} records with timestamps {@code timestamp, timestamp + 1, ...}. */
    static ByteBuffer plain(int records, long timestamp) {
        return idempotent(RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE,
            records, timestamp);
    }

    static ByteBuffer idempotent(long producerId, int epoch, int baseSequence, int records) {
        return idempotent(producerId, epoch, baseSequence, records, 1_000L);
    }

    static ByteBuffer idempotent(long producerId, int epoch, int baseSequence, int records, long timestamp) {
        return withValueSize(producerId, epoch, baseSequence, records, timestamp, 8);
    }

    /** A batch whose record values are {@code valueSize} bytes each (to control the batch size). */
    static ByteBuffer withValueSize(long producerId, int epoch, int baseSequence, int records, long timestamp,
                                    int valueSize) {
        ByteBuffer buf = ByteBuffer.allocateDirect(RecordBatch.HEADER_SIZE + records * (valueSize + 32) + 64);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < records; i++) {
            byte[] value = new byte[valueSize];
            byte[] label = ("v" + i).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(label, 0, value, 0, Math.min(label.length, valueSize));
            if (!builder.tryAppend(timestamp + i, ("k" + i).getBytes(StandardCharsets.UTF_8), value, null)) {
                throw new IllegalStateException("batch buffer too small");
            }
        }
        int size = builder.close();
        RecordBatch batch = new RecordBatch(buf, 0);
        if (producerId != RecordBatch.NO_PRODUCER_ID || baseSequence != RecordBatch.NO_SEQUENCE) {
            batch.stampProducerState(producerId, (short) epoch, baseSequence);
        }
        buf.limit(size);
        return buf;
    }

    /** A heap copy of the batch bytes, to compare with what is on disk or to corrupt. */
    static byte[] bytes(ByteBuffer batch) {
        byte[] bytes = new byte[batch.limit()];
        batch.duplicate().position(0).get(bytes);
        return bytes;
    }

    static ByteBuffer direct(byte[] bytes) {
        ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length);
        buf.put(bytes).flip();
        return buf;
    }

    /** A fresh copy (a retry sends the same bytes again; the first append patched baseOffset in its buffer). */
    static ByteBuffer copy(ByteBuffer batch) {
        return direct(bytes(batch));
    }
}
