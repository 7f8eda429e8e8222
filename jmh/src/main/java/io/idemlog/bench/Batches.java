package io.idemlog.bench;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.common.record.Varints;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Batch fixtures shared by the benchmarks. Values are seeded random bytes, one distinct array per record, so that
 * a 1000 x 1000-byte batch really moves a megabyte through the caches (one shared array would stay in L1) and two
 * runs measure the same bytes. Records have no key and no headers: the idempotent path does not depend on them,
 * and they would multiply the parameter matrix.
 */
public final class Batches {
    /** Fixed, so that every run and every fork encodes the same bytes. */
    public static final long SEED = 0x1de_1097L;
    /** Any realistic wall-clock time: timestamp deltas are then small varints, as in production. */
    public static final long BASE_TIMESTAMP = 1_700_000_000_000L;

    private Batches() {
    }

    /** {@code records} arrays of {@code valueSize} seeded random bytes. */
    public static byte[][] values(int records, int valueSize, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[][] values = new byte[records][valueSize];
        for (byte[] value : values) {
            for (int i = 0; i < valueSize; i++) {
                value[i] = (byte) random.nextInt(256);
            }
        }
        return values;
    }

    /** Bytes a batch of {@code records} records of {@code valueSize}-byte values may take, at most. */
    public static int capacityFor(int records, int valueSize) {
        return RecordBatch.HEADER_SIZE + records * RecordBatchBuilder.estimateSizeUpperBound(-1, valueSize, null);
    }

    /**
     * A closed batch of these values, stamped with producer state as an idempotent producer's first drain does,
     * in a buffer of {@code kind} holding exactly the batch (position 0, limit = batch size).
     */
    public static ByteBuffer batch(BufferKind kind, byte[][] values, long producerId, short epoch, int baseSequence) {
        int capacity = capacityFor(values.length, values.length == 0 ? 0 : values[0].length);
        ByteBuffer scratch = ByteBuffer.allocate(capacity);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(scratch, 0, capacity);
        for (int i = 0; i < values.length; i++) {
            if (!builder.tryAppend(BASE_TIMESTAMP + i, null, values[i], null)) {
                throw new IllegalStateException("record " + i + " does not fit in " + capacity + " bytes");
            }
        }
        int size = builder.close();
        new RecordBatch(scratch, 0).stampProducerState(producerId, epoch, baseSequence);
        return kind.copyOf(scratch.limit(size));
    }

    /**
     * A batch filled like the producer's accumulator fills one: records of {@code valueSize} bytes appended until
     * the next would overflow {@code batchSize} (the producer's batch.size), then closed and stamped.
     */
    public static ByteBuffer fullBatch(BufferKind kind, int batchSize, int valueSize, long seed, long producerId,
                                       short epoch, int baseSequence) {
        ByteBuffer scratch = ByteBuffer.allocate(batchSize);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(scratch, 0, batchSize);
        SplittableRandom random = new SplittableRandom(seed);
        byte[] value = new byte[valueSize];
        for (int i = 0; ; i++) {
            for (int b = 0; b < valueSize; b++) {
                value[b] = (byte) random.nextInt(256);
            }
            if (!builder.tryAppend(BASE_TIMESTAMP + i, null, value, null)) {
                break;
            }
        }
        int size = builder.close();
        new RecordBatch(scratch, 0).stampProducerState(producerId, epoch, baseSequence);
        return kind.copyOf(scratch.limit(size));
    }

    /** Fails unless the batch at {@code buffer[0, limit)} passes every check the server makes. */
    public static void requireValid(ByteBuffer buffer, int expectedRecords) {
        RecordBatch batch = new RecordBatch(buffer, 0);
        RecordBatch.Validation validation = batch.validate(buffer.limit(), Integer.MAX_VALUE);
        if (validation != RecordBatch.Validation.VALID) {
            throw new IllegalStateException("fixture batch is " + validation + ": " + batch);
        }
        if (!batch.validateRecords(new Varints.Cursor())) {
            throw new IllegalStateException("fixture batch has malformed records: " + batch);
        }
        if (expectedRecords >= 0 && batch.recordsCount() != expectedRecords) {
            throw new IllegalStateException("fixture batch holds " + batch.recordsCount() + " records, expected "
                + expectedRecords);
        }
    }
}
