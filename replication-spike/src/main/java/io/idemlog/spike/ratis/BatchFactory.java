package io.idemlog.spike.ratis;

import io.idemlog.common.record.Header;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

/**
 * SPIKE: real Kafka v2 record batches of about {@code batchBytes}, built once with idemlog's builder and re-stamped
 * per send. Each batch carries a driver-side tag (its send number) in baseTimestamp, so that a log can be checked
 * for duplicates even when the producer is not idempotent (the control runs).
 */
final class BatchFactory {
    private static final int VALUE_BYTES = 1000;
    private final byte[] template;
    private final int records;

    BatchFactory(int batchBytes, long seed) {
        Random random = new Random(seed);
        ByteBuffer buf = ByteBuffer.allocate(batchBytes + 4096);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        byte[] value = new byte[VALUE_BYTES];
        int n = 0;
        while (true) {
            random.nextBytes(value);
            byte[] key = ("key-" + n).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (builder.sizeInBytes() + RecordBatchBuilder.estimateSizeUpperBound(key.length, value.length,
                new Header[0]) > batchBytes && n > 0) {
                break;
            }
            if (!builder.tryAppend(0L, key, value, new Header[0])) {
                break;
            }
            n++;
        }
        int size = builder.close();
        this.template = Arrays.copyOf(buf.array(), size);
        this.records = n;
    }

    int records() {
        return records;
    }

    int bytes() {
        return template.length;
    }

    /**
     * A fresh copy stamped with producer id, epoch, base sequence and the tag (in baseTimestamp); the CRC is
     * recomputed. Producer id -1 gives a non-idempotent batch (epoch and sequence -1).
     */
    byte[] batch(long producerId, short epoch, int baseSequence, long tag) {
        byte[] b = template.clone();
        ByteBuffer buf = ByteBuffer.wrap(b);
        buf.putLong(RecordBatch.BASE_TIMESTAMP_OFFSET, tag);
        buf.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, tag);
        RecordBatch batch = new RecordBatch(buf, 0);
        if (producerId < 0) {
            batch.stampProducerState(RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
                RecordBatch.NO_SEQUENCE);
        } else {
            batch.stampProducerState(producerId, epoch, baseSequence);
        }
        return b;
    }
}
