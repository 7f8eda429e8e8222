package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/** What a fetch would serve from a partition, checked batch by batch: for fuzz targets and corruption tests. */
final class ServedBatches {
    private ServedBatches() {
    }

    /**
     * Reads the partition as a consumer would, from its log start to its high watermark, and throws an
     * AssertionError unless every answer is whole batches, each with valid framing and CRC, holding the offset that
     * was asked for, each next batch at the offset after the previous one (the log has no gaps).
     */
    static void assertOnlyValidBatches(Partition partition) throws IOException {
        long offset = partition.logStartOffset();
        long hw = partition.highWatermark();
        int reads = 0;
        while (offset < hw && reads++ < 100_000) {
            ReadResult r = partition.read(offset, 64 * 1024);
            if (r.error() != ErrorCode.NONE) {
                return; // an error answer is allowed; garbage is not
            }
            if (r.size() == 0) {
                return;
            }
            ByteBuffer bytes = ByteBuffer.allocate(r.size());
            try (FileChannel ch = FileChannel.open(r.file(), StandardOpenOption.READ)) {
                while (bytes.hasRemaining() && ch.read(bytes, r.position() + bytes.position()) > 0) {
                    // read fully
                }
            }
            bytes.flip();
            int p = 0;
            boolean first = true;
            while (p < bytes.limit()) {
                RecordBatch b = new RecordBatch(bytes, p);
                RecordBatch.Validation v = b.validate(bytes.limit() - p, Integer.MAX_VALUE);
                if (v != RecordBatch.Validation.VALID) {
                    throw new AssertionError("fetch at offset " + offset + " served a " + v + " batch at byte " + p
                        + " of " + r.file() + "@" + r.position());
                }
                if (first && (b.baseOffset() > offset || b.lastOffset() < offset)) {
                    throw new AssertionError("fetch at offset " + offset + " served batch " + b.baseOffset() + "-"
                        + b.lastOffset());
                }
                if (!first && b.baseOffset() != offset) {
                    throw new AssertionError("offsets not continuous: " + b.baseOffset() + " after " + offset);
                }
                offset = b.lastOffset() + 1;
                first = false;
                p += b.sizeInBytes();
            }
        }
    }
}
