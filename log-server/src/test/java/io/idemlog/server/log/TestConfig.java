package io.idemlog.server.log;

/** LogConfig for tests: small and explicit, changed one property at a time. */
final class TestConfig {
    long segmentBytes = 1 << 20;
    long segmentMs = 3_600_000L;
    long retentionMs = -1L;
    long retentionBytes = -1L;
    long retentionCheckIntervalMs = 1_000L;
    int indexIntervalBytes = 256;
    int maxBatchBytes = 64 * 1024;
    long producerIdExpirationMs = 600_000L;
    long producerIdExpirationCheckIntervalMs = 1_000L;
    int maxProducersPerPartition = 1_000;
    long fileDeleteDelayMs = 0L;
    /** Off by default: most storage tests reason about the exact file length. See PreallocationTest. */
    boolean preallocate = false;
    /** De-duplication keys: off unless a test sets them (DedupAppendTest). */
    DedupConfig dedup = DedupConfig.OFF;
    /** message.timestamp.type=LogAppendTime as the broker default (LogAppendTimeTest). */
    boolean logAppendTime = false;

    LogConfig build() {
        return new LogConfig(segmentBytes, segmentMs, retentionMs, retentionBytes, retentionCheckIntervalMs,
            indexIntervalBytes, maxBatchBytes, producerIdExpirationMs, producerIdExpirationCheckIntervalMs,
            maxProducersPerPartition, fileDeleteDelayMs, preallocate, dedup, logAppendTime);
    }
}
