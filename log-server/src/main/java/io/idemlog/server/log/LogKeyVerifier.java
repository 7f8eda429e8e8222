package io.idemlog.server.log;

import io.idemlog.common.record.CompressedRecords;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.Varints;
import io.idemlog.server.state.KeyWindow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Confirms a key window hit against the log: reads the stored batch holding the candidate offset (from the page
 * cache normally: it was written at most one window ago) and compares the candidate record's key bytes with the
 * key being looked up. Runs only on a hash hit, i.e. for a repeat (or a 64-bit collision); the last batch read is
 * kept, so a run of repeats of one original batch reads it once. A candidate that is no longer in the log
 * (retention removed it) or cannot be read is not a match: the new record is stored (and an I/O error is logged).
 * A compressed original is decompressed (once per batch read: the decompressed copy is what is kept).
 * Partition lock held.
 */
final class LogKeyVerifier implements KeyWindow.Verifier {
    private static final Logger LOG = LoggerFactory.getLogger(LogKeyVerifier.class);

    private final PartitionApplier.Host partition;
    private final Varints.Cursor cursor = new Varints.Cursor();
    private final ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
    private byte[] name;
    private ByteBuffer scratch = ByteBuffer.allocate(64 * 1024);
    /** Decompresses a compressed original (created at the first one); its buffer is then the cached batch. */
    private CompressedRecords inflater;
    private final RecordBatch stored = new RecordBatch();
    /** The cached batch: {@link #scratch} or, for a compressed original, the inflater's buffer (at index 0). */
    private ByteBuffer cached;
    private long cachedBase = -1L;
    private long cachedLast = -1L;
    private long reads;
    private long inflations;
    /** Bound on a stored batch's decompressed size (produced batches were held to 16 x the batch limit). */
    private static final long MAX_INFLATED_BYTES = 256L << 20;

    private ByteBuffer key;
    private int keyIndex;
    private int keyLength;

    LogKeyVerifier(PartitionApplier.Host partition, DedupConfig config) {
        this.partition = partition;
        configure(config);
    }

    void configure(DedupConfig config) {
        name = config.headerBytes();
        forget();
    }

    /** Drops the cached batch (the log was truncated or the header changed). */
    void forget() {
        cachedBase = -1L;
        cachedLast = -1L;
    }

    /** Batches read from the log so far (tests: a run of repeats of one batch reads it once). */
    long reads() {
        return reads;
    }

    /** Compressed batches decompressed so far (tests: once per batch read, not per repeat). */
    long inflations() {
        return inflations;
    }

    /** The key the next {@link #sameKey} calls compare with. */
    void expect(ByteBuffer buffer, int index, int length) {
        key = buffer;
        keyIndex = index;
        keyLength = length;
    }

    @Override
    public boolean sameKey(long offset) {
        LogSegment segment = partition.segmentFor(offset);
        if (segment == null) {
            return false; // below the log start (retention removed it) or not in the log
        }
        if (offset < cachedBase || offset > cachedLast) {
            if (!load(segment, offset)) {
                return false;
            }
        }
        return DedupFilter.storedRecordHasKey(cached, 0, (int) (offset - cachedBase), name, key, keyIndex,
            keyLength, cursor);
    }

    private boolean load(LogSegment segment, long offset) {
        forget();
        try {
            int position = segment.findBatch(offset, header);
            if (position < 0) {
                return false;
            }
            int size = RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
            if (size < RecordBatch.HEADER_SIZE || size > segment.size() - position) {
                return false;
            }
            if (scratch.capacity() < size) {
                scratch = ByteBuffer.allocate(Integer.highestOneBit(size - 1) << 1);
            }
            scratch.clear().limit(size);
            long p = position;
            while (scratch.hasRemaining()) {
                int n = segment.channel().read(scratch, p);
                if (n < 0) {
                    return false;
                }
                p += n;
            }
            reads++;
            long base = scratch.getLong(RecordBatch.BASE_OFFSET_OFFSET);
            long last = base + scratch.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
            if (offset < base || offset > last) {
                return false;
            }
            cached = scratch;
            if (stored.wrap(scratch, 0).compression() != 0) {
                // A compressed original: its records are compared decompressed (the whole batch, once; kept
                // with the cache, so a run of repeats of one compressed batch decompresses it once).
                if (inflater == null) {
                    inflater = new CompressedRecords();
                }
                if (inflater.inflate(stored, MAX_INFLATED_BYTES) != CompressedRecords.Result.VALID) {
                    LOG.warn("{}: cannot decompress the batch at offset {} to confirm a de-duplication key ({}); "
                        + "the record is stored", partition, offset, inflater.reason());
                    return false;
                }
                inflations++;
                cached = inflater.inflated();
            }
            cachedBase = base;
            cachedLast = last;
            return true;
        } catch (IOException e) {
            LOG.warn("{}: cannot read the batch at offset {} to confirm a de-duplication key; the record is "
                + "stored", partition, offset, e);
            return false;
        }
    }
}
