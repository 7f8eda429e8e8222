package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.Varints;
import io.idemlog.server.state.KeyWindow;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The per-batch work of de-duplication keys, for one partition (used under its lock; reusable scratch arrays, so
 * nothing is allocated per record, and per batch only when a batch is larger than any before it):
 * <ol>
 * <li>{@link #scan}: for every record of a validated, uncompressed batch, find its key (the value of the first
 * header named like the configured one; a missing, null or empty value = no key), hash it, and decide whether it is
 * a repeat: of a key in the partition's {@link KeyWindow} (confirmed by a {@link KeyWindow.Verifier} reading the
 * stored record, so a hash collision never drops a distinct record) or of an earlier record of the same batch
 * (confirmed by comparing the bytes);</li>
 * <li>{@link #compact}: when there are repeats, rewrite the batch in place without them: the surviving records move
 * down and keep their offset deltas (holes are left), recordsCount, batchLength, maxTimestamp and the CRC are
 * recomputed; baseOffset, lastOffsetDelta, the producer fields and baseTimestamp are kept, so the batch keeps its
 * offset range and sequence range (a batch of only repeats becomes an empty batch);</li>
 * <li>{@link #commit}: after the batch was written, enter the surviving keys into the window. Never earlier: a key
 * enters the window only with the record that carries it, as that record is stored.</li>
 * </ol>
 */
final class DedupFilter implements RecordBatch.RecordSink {
    private final Varints.Cursor cursor = new Varints.Cursor();
    private byte[] headerName;

    // Per record of the current batch (index = offset delta).
    private int[] recordStart = new int[64];
    private int[] recordEnd = new int[64];
    private long[] timestampDelta = new long[64];
    private int[] keyIndex = new int[64];
    private int[] keyLength = new int[64];
    private long[] keyHash = new long[64];
    /** -1: stored; otherwise the offset of the original this record repeats. */
    private long[] original = new long[64];
    private int count;
    private int repeats;
    private ByteBuffer buffer;
    /** The batch {@link #validate} walked (its buffer and position), whose records pass 1 of {@link #scan} has. */
    private ByteBuffer validatedBuffer;
    private int validatedOffset = -1;

    /** In-batch table: record index + 1, or 0. */
    private int[] batchTable = new int[128];

    DedupFilter(DedupConfig config) {
        configure(config);
    }

    void configure(DedupConfig config) {
        headerName = config.headerBytes();
    }

    /** Looks for the header {@code name} (UTF-8 bytes, kept by reference) from the next batch on. */
    void configure(byte[] name) {
        headerName = name;
    }

    int count() {
        return count;
    }

    int repeats() {
        return repeats;
    }

    /** Offset of the original record the record at {@code delta} repeats, or -1 when it is stored. */
    long original(int delta) {
        return original[delta];
    }

    private void ensure(int n) {
        if (recordStart.length >= n) {
            return;
        }
        int c = Integer.highestOneBit(n - 1) << 1;
        recordStart = Arrays.copyOf(recordStart, c);
        recordEnd = Arrays.copyOf(recordEnd, c);
        timestampDelta = Arrays.copyOf(timestampDelta, c);
        keyIndex = Arrays.copyOf(keyIndex, c);
        keyLength = Arrays.copyOf(keyLength, c);
        keyHash = Arrays.copyOf(keyHash, c);
        original = Arrays.copyOf(original, c);
        batchTable = new int[c * 2];
    }

    /**
     * {@link RecordBatch#validateRecords(Varints.Cursor)} of an uncompressed batch, also collecting each record's
     * place and key for {@link #scan} (one walk of the records instead of two). The arrays grow with the records
     * actually walked, never with the batch's claimed count.
     */
    boolean validate(RecordBatch batch, Varints.Cursor walk) {
        validatedOffset = -1;
        buffer = batch.buffer();
        boolean valid = batch.validateRecords(walk, headerName, this);
        if (valid) {
            validatedBuffer = batch.buffer();
            validatedOffset = batch.offset();
        }
        return valid;
    }

    @Override
    public void record(int index, int start, int end, long tsDelta, int headerValueIndex, int headerValueLength) {
        ensure(index + 1);
        recordStart[index] = start;
        recordEnd[index] = end;
        timestampDelta[index] = tsDelta;
        original[index] = -1L;
        if (headerValueLength > 0) {
            keyIndex[index] = headerValueIndex;
            keyLength[index] = headerValueLength;
            keyHash[index] = KeyWindow.hash(buffer, headerValueIndex, headerValueLength);
        } else {
            keyLength[index] = 0;
            keyHash[index] = 0L;
        }
    }

    /**
     * Decides which records of {@code batch} (validated: records with offset deltas 0..n-1; uncompressed) repeat a
     * stored key. {@code baseOffset} is the offset the batch will get. Returns the number of repeats.
     */
    int scan(RecordBatch batch, long baseOffset, KeyWindow window, long nowMs, LogKeyVerifier verifier) {
        ByteBuffer buf = batch.buffer();
        buffer = buf;
        int n = batch.recordsCount();
        ensure(n);
        count = n;
        repeats = 0;
        int tableMask = Integer.highestOneBit(Math.max(1, n * 2 - 1)) * 2 - 1;
        Arrays.fill(batchTable, 0, tableMask + 1, 0);
        boolean walked = validatedOffset == batch.offset() && validatedBuffer == buf;
        validatedBuffer = null;
        validatedOffset = -1;
        int end = batch.offset() + batch.sizeInBytes();
        int position = batch.offset() + RecordBatch.RECORDS_OFFSET;
        // Pass 1: each record's key, hashed in place; already done by validate() when it walked this batch.
        for (int i = 0; i < n && !walked; i++) {
            Varints.Cursor c = cursor.wrap(buf, position, end);
            int length = c.varint();
            int start = c.next;
            int stop = start + length;
            recordStart[i] = position;
            recordEnd[i] = stop;
            c.wrap(buf, start, stop);
            c.skip(1);
            timestampDelta[i] = c.varlong();
            c.varint(); // offset delta: i (validated)
            int kl = c.varint();
            c.skip(Math.max(0, kl));
            int vl = c.varint();
            c.skip(Math.max(0, vl));
            findKey(buf, c, headerName, i);
            original[i] = -1L;
            position = stop;
            if (keyLength[i] > 0) {
                keyHash[i] = KeyWindow.hash(buf, keyIndex[i], keyLength[i]);
            } else {
                keyHash[i] = 0L;
            }
        }
        // Pass 2: start the window's cache misses for every key of the batch at once (the index lines where their
        // lookups, and later their inserts, happen), instead of one after another in pass 3. Evictions touch no
        // index line at random (KeyWindow drops the oldest by advancing its ring; a sequential sweep cleans up).
        if (window.size() > 0) {
            window.prefetch(keyHash, n);
        }
        // Pass 3: in record order (the first record with a key wins), a repeat of a stored key or of an earlier
        // record of this batch.
        for (int i = 0; i < n; i++) {
            if (keyLength[i] <= 0) {
                continue;
            }
            long hash = keyHash[i];
            long found = -1L;
            if (window.size() > 0) {
                verifier.expect(buf, keyIndex[i], keyLength[i]);
                found = window.findOriginal(hash, nowMs, verifier);
            }
            if (found < 0) {
                found = findInBatch(buf, i, hash, tableMask, baseOffset);
            }
            if (found >= 0) {
                original[i] = found;
                repeats++;
            }
        }
        return repeats;
    }

    /** Sets keyIndex/keyLength[i] from the headers the cursor is positioned at (length 0: no key). */
    private void findKey(ByteBuffer buf, Varints.Cursor c, byte[] name, int i) {
        keyLength[i] = 0;
        int headers = c.varint();
        for (int h = 0; h < headers; h++) {
            int hk = c.varint();
            int hkIndex = c.next;
            c.skip(hk);
            int hv = c.varint();
            int hvIndex = c.next;
            c.skip(Math.max(0, hv));
            if (hk == name.length && equalsAt(buf, hkIndex, name)) {
                keyIndex[i] = hvIndex;
                keyLength[i] = Math.max(0, hv);
                return;
            }
        }
    }

    /** The offset of an earlier record of this batch with the same key, or -1 (and then this one is entered). */
    private long findInBatch(ByteBuffer buf, int i, long hash, int mask, long baseOffset) {
        int slot = (int) (hash ^ (hash >>> 32)) & mask;
        while (true) {
            int e = batchTable[slot];
            if (e == 0) {
                batchTable[slot] = i + 1;
                return -1L;
            }
            int j = e - 1;
            if (keyHash[j] == hash && keyLength[j] == keyLength[i]
                && sameBytes(buf, keyIndex[j], keyIndex[i], keyLength[i])) {
                return baseOffset + j;
            }
            slot = (slot + 1) & mask;
        }
    }

    private static boolean sameBytes(ByteBuffer buf, int a, int b, int length) {
        for (int k = 0; k < length; k++) {
            if (buf.get(a + k) != buf.get(b + k)) {
                return false;
            }
        }
        return true;
    }

    static boolean equalsAt(ByteBuffer buf, int index, byte[] bytes) {
        for (int k = 0; k < bytes.length; k++) {
            if (buf.get(index + k) != bytes[k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Rewrites the scanned batch without its repeats (see the class comment); returns its new size in bytes. Call
     * only when {@link #repeats()} > 0.
     */
    int compact(RecordBatch batch) {
        ByteBuffer buf = batch.buffer();
        int dst = batch.offset() + RecordBatch.RECORDS_OFFSET;
        int kept = 0;
        long maxDelta = Long.MIN_VALUE;
        for (int i = 0; i < count; i++) {
            if (original[i] >= 0) {
                continue;
            }
            int len = recordEnd[i] - recordStart[i];
            if (dst != recordStart[i]) {
                buf.put(dst, buf, recordStart[i], len);
            }
            dst += len;
            kept++;
            maxDelta = Math.max(maxDelta, timestampDelta[i]);
        }
        int size = dst - batch.offset();
        buf.putInt(batch.offset() + RecordBatch.LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        buf.putInt(batch.offset() + RecordBatch.RECORDS_COUNT_OFFSET, kept);
        if (kept > 0 && !batch.isLogAppendTime()) {
            buf.putLong(batch.offset() + RecordBatch.MAX_TIMESTAMP_OFFSET, batch.baseTimestamp() + maxDelta);
        }
        batch.updateCrc();
        return size;
    }

    /** Enters the stored records' keys into the window (after the batch was written at {@code baseOffset}). */
    void commit(KeyWindow window, long baseOffset, long nowMs) {
        // The index lines scan's prefetch loaded may have left the cache while the batch was written (the segment
        // write and its zero-fill ahead move more than the L2's worth): load them again, overlapped, before the inserts.
        if (window.size() > 0) {
            window.prefetch(keyHash, count);
        }
        for (int i = 0; i < count; i++) {
            if (original[i] < 0 && keyLength[i] > 0) {
                window.add(keyHash[i], baseOffset + i, nowMs);
            }
        }
        buffer = null;
    }

    /**
     * Enters the keys of a batch read back from the log (recovery replay; holes allowed: the offset comes from each
     * record's delta). Returns the number of keys entered.
     */
    int replay(RecordBatch batch, KeyWindow window, long nowMs) {
        ByteBuffer buf = batch.buffer();
        int n = batch.recordsCount();
        int end = batch.offset() + batch.sizeInBytes();
        int position = batch.offset() + RecordBatch.RECORDS_OFFSET;
        ensure(1);
        int entered = 0;
        for (int i = 0; i < n; i++) {
            Varints.Cursor c = cursor.wrap(buf, position, end);
            int length = c.varint();
            int start = c.next;
            int stop = start + length;
            c.wrap(buf, start, stop);
            c.skip(1);
            c.varlong();
            int delta = c.varint();
            int kl = c.varint();
            c.skip(Math.max(0, kl));
            int vl = c.varint();
            c.skip(Math.max(0, vl));
            findKey(buf, c, headerName, 0);
            if (!c.failed() && keyLength[0] > 0) {
                window.add(KeyWindow.hash(buf, keyIndex[0], keyLength[0]), batch.baseOffset() + delta, nowMs);
                entered++;
            }
            position = stop;
        }
        return entered;
    }

    /**
     * In a stored batch (holes allowed) at {@code batchOffset} of {@code buf}: whether the record at offset delta
     * {@code delta} carries the key {@code key[keyIndex, keyIndex + keyLength)} in the header {@code name}.
     */
    static boolean storedRecordHasKey(ByteBuffer buf, int batchOffset, int delta, byte[] name, ByteBuffer key,
                                      int keyIndex, int keyLength, Varints.Cursor cursor) {
        int n = buf.getInt(batchOffset + RecordBatch.RECORDS_COUNT_OFFSET);
        int end = batchOffset + RecordBatch.LOG_OVERHEAD + buf.getInt(batchOffset + RecordBatch.LENGTH_OFFSET);
        int position = batchOffset + RecordBatch.RECORDS_OFFSET;
        for (int i = 0; i < n && position < end; i++) {
            Varints.Cursor c = cursor.wrap(buf, position, end);
            int length = c.varint();
            int start = c.next;
            int stop = start + length;
            if (c.failed() || length < 1 || stop > end) {
                return false;
            }
            c.wrap(buf, start, stop);
            c.skip(1);
            c.varlong();
            int d = c.varint();
            if (d == delta) {
                int kl = c.varint();
                c.skip(Math.max(0, kl));
                int vl = c.varint();
                c.skip(Math.max(0, vl));
                int headers = c.varint();
                for (int h = 0; h < headers && !c.failed(); h++) {
                    int hk = c.varint();
                    int hkIndex = c.next;
                    c.skip(Math.max(0, hk));
                    int hv = c.varint();
                    int hvIndex = c.next;
                    c.skip(Math.max(0, hv));
                    if (c.failed()) {
                        return false;
                    }
                    if (hk == name.length && equalsAt(buf, hkIndex, name)) {
                        if (hv != keyLength) {
                            return false;
                        }
                        for (int k = 0; k < keyLength; k++) {
                            if (buf.get(hvIndex + k) != key.get(keyIndex + k)) {
                                return false;
                            }
                        }
                        return true;
                    }
                }
                return false;
            }
            if (d > delta) {
                return false;
            }
            position = stop;
        }
        return false;
    }
}
