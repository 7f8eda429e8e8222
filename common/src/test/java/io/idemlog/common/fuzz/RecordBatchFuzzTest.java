package io.idemlog.common.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordReader;
import io.idemlog.common.record.Varints;

import java.nio.ByteBuffer;

/**
 * The record-batch flyweight, its validation and the record reader under fuzzing. The first input byte says whether
 * the harness repairs the CRC of a batch whose only fault is its CRC (so that mutations reach the record walk
 * instead of all dying at the checksum); the rest is the batch. Invariants: validation never throws; a batch whose
 * header and records validate is read by {@link RecordReader} record by record, exactly recordsCount of them, at
 * offsets base + 0, 1, 2, ..., with every key, value and header inside the batch.
 */
class RecordBatchFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void recordBatch(byte[] input) {
        if (input.length < 1) {
            return;
        }
        ByteBuffer buf = ByteBuffer.allocate(input.length - 1);
        buf.put(input, 1, input.length - 1).flip();
        check(buf, (input[0] & 1) != 0);
    }

    static void check(ByteBuffer buf, boolean repairCrc) {
        RecordBatch batch = new RecordBatch(buf, 0);
        RecordBatch.Validation v = batch.validate(buf.limit(), Integer.MAX_VALUE);
        if (v == RecordBatch.Validation.BAD_CRC && repairCrc) {
            batch.updateCrc();
            v = batch.validate(buf.limit(), Integer.MAX_VALUE);
        }
        if (v != RecordBatch.Validation.VALID) {
            return;
        }
        if (batch.compression() != 0 || !batch.validateRecords(new Varints.Cursor())) {
            return;
        }
        RecordReader reader = new RecordReader().wrap(buf, 0);
        int end = batch.sizeInBytes();
        int n = 0;
        while (reader.next()) {
            if (reader.offset != batch.baseOffset() + n) {
                throw new AssertionError("record " + n + " at offset " + reader.offset);
            }
            inside(reader.keyIndex, reader.keyLength, end, "key");
            inside(reader.valueIndex, reader.valueLength, end, "value");
            if (reader.headerCount < 0 || reader.headersIndex > end) {
                throw new AssertionError("headers outside the batch");
            }
            reader.key();
            reader.value();
            n++;
        }
        if (n != batch.recordsCount()) {
            throw new AssertionError(n + " records read, the header says " + batch.recordsCount());
        }
    }

    private static void inside(int index, int length, int end, String what) {
        if (length >= 0 && (index < 0 || (long) index + length > end)) {
            throw new AssertionError(what + " [" + index + ", +" + length + ") outside the batch of " + end);
        }
    }
}
