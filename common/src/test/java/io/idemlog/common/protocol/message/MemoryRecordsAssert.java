package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.Records;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.Varints;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions on the record batches inside a RECORDS field. */
public final class MemoryRecordsAssert {
    private MemoryRecordsAssert() {
    }

    /** One batch filling the field, CRC valid, records well formed; {@code count} = -1 accepts any count. */
    public static void assertSingleValidBatch(Records records, int count) {
        ByteBuffer b = assertInstanceOf(MemoryRecords.class, records).buffer();
        RecordBatch batch = new RecordBatch(b, b.position());
        assertEquals(RecordBatch.Validation.VALID, batch.validate(b.remaining(), Integer.MAX_VALUE));
        assertEquals(b.remaining(), batch.sizeInBytes());
        assertTrue(batch.validateRecords(new Varints.Cursor()));
        if (count >= 0) {
            assertEquals(count, batch.recordsCount());
        }
    }

    /** Whole valid batches, except possibly a partial batch at the end (a fetch may cut the last one off). */
    public static int assertValidBatches(Records records) {
        ByteBuffer b = assertInstanceOf(MemoryRecords.class, records).buffer();
        int pos = b.position();
        int batches = 0;
        RecordBatch batch = new RecordBatch();
        while (b.limit() - pos >= RecordBatch.HEADER_SIZE) {
            batch.wrap(b, pos);
            if (batch.sizeInBytes() > b.limit() - pos) {
                break;
            }
            assertEquals(RecordBatch.Validation.VALID, batch.validate(b.limit() - pos, Integer.MAX_VALUE));
            pos += batch.sizeInBytes();
            batches++;
        }
        assertTrue(batches > 0);
        return batches;
    }
}
