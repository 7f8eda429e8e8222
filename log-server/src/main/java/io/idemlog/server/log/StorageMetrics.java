package io.idemlog.server.log;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * Storage counters, updated from any thread without contention (LongAdder), one set per store. Exposed through
 * {@link LogStore#metrics()} for the server's counters (and later the metrics registry); storage itself imports no
 * metrics library.
 */
public final class StorageMetrics {
    /** Batches found damaged when read for a fetch or a timestamp lookup (not served; the fetch got an error). */
    public final LongAdder corruptBatchesRead = new LongAdder();
    /** Sparse-index entries found pointing at something other than the batch they name (the lookup then scanned). */
    public final LongAdder badIndexEntries = new LongAdder();
    /** Chunks of sealed segments checked (framing, offsets, CRC) on their first read after a restart. */
    public final LongAdder chunksVerified = new LongAdder();
    /** Bytes of sealed segments checked on their first read after a restart. */
    public final LongAdder bytesVerified = new LongAdder();
    /** Write, fsync and seal failures (each takes its partition offline). */
    public final LongAdder storageErrors = new LongAdder();
    /** Partitions taken offline by a storage failure since the start. */
    public final LongAdder partitionsOffline = new LongAdder();
    /**
     * Unexpected exceptions in a group commit, the flusher's round or a request thread's flushNow (the partition is
     * then taken offline).
     */
    public final LongAdder flusherFailures = new LongAdder();
    /**
     * Durability callbacks (acks=all completions) that threw: a bug in the request path, logged; the other callbacks
     * of the round still run.
     */
    public final LongAdder callbackFailures = new LongAdder();
    /** Rolls whose seal (fsyncs, index, snapshot) the storage thread completed. */
    public final LongAdder segmentsSealed = new LongAdder();
    /** Group-commit fsyncs of an active segment (the fsyncs that make acknowledged data durable). */
    public final LongAdder commitFsyncs = new LongAdder();
    /** Nanoseconds spent in those fsyncs. */
    public final LongAdder commitFsyncNanos = new LongAdder();
    /** Records (offsets) those fsyncs made durable. */
    public final LongAdder commitFsyncRecords = new LongAdder();
    /**
     * Sees each group-commit fsync's latency in nanoseconds (the metrics registry's histogram sets it; no-op
     * otherwise). Called on the fsyncing thread right after the fsync: must not block.
     */
    public volatile LongConsumer fsyncLatencyObserver = n -> {
    };
    /** Sees the records each group-commit fsync made durable (the records-per-group-commit histogram). */
    public volatile LongConsumer commitRecordsObserver = n -> {
    };

    /** One group-commit fsync took {@code nanos} and made {@code records} records durable. */
    void commitFsynced(long nanos, long records) {
        commitFsyncs.increment();
        commitFsyncNanos.add(nanos);
        commitFsyncRecords.add(records);
        fsyncLatencyObserver.accept(nanos);
        commitRecordsObserver.accept(records);
    }

    /** Every counter by name ({@code storage.*}). */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("storage.corrupt_batches_read", corruptBatchesRead.sum());
        m.put("storage.bad_index_entries", badIndexEntries.sum());
        m.put("storage.chunks_verified", chunksVerified.sum());
        m.put("storage.bytes_verified", bytesVerified.sum());
        m.put("storage.errors", storageErrors.sum());
        m.put("storage.partitions_offline", partitionsOffline.sum());
        m.put("storage.flusher_failures", flusherFailures.sum());
        m.put("storage.callback_failures", callbackFailures.sum());
        m.put("storage.segments_sealed", segmentsSealed.sum());
        m.put("storage.commit_fsyncs", commitFsyncs.sum());
        m.put("storage.commit_fsync_records", commitFsyncRecords.sum());
        return m;
    }
}
