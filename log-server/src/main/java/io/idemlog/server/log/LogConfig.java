package io.idemlog.server.log;

/**
 * Storage settings, validated by the server configuration (Kafka property names in parentheses).
 *
 * @param segmentBytes            roll the active segment once it reaches this size (log.segment.bytes)
 * @param segmentMs               roll the active segment once its first batch is this old (log.roll.ms)
 * @param retentionMs             delete whole segments whose newest record is older; -1 = keep forever
 *                                (log.retention.ms)
 * @param retentionBytes          delete oldest segments while the log is larger; -1 = no limit
 *                                (log.retention.bytes)
 * @param retentionCheckIntervalMs how often retention runs (log.retention.check.interval.ms)
 * @param indexIntervalBytes      one sparse index entry every this many bytes of log (log.index.interval.bytes)
 * @param maxBatchBytes           largest batch accepted from a producer (message.max.bytes)
 * @param producerIdExpirationMs  drop a producer's state after this long without a write, by server time
 *                                (producer.id.expiration.ms)
 * @param producerIdExpirationCheckIntervalMs how often expiry runs (producer.id.expiration.check.interval.ms)
 * @param maxProducersPerPartition producers whose state a partition keeps; beyond it the least recently used is
 *                                evicted and counted (producer.state.max.producers.per.partition)
 * @param fileDeleteDelayMs       a deleted segment stays readable this long for fetches in flight
 *                                (log.segment.delete.delay.ms)
 * @param preallocate             zero-fill the active segment ahead of the write position, so that an fsync
 *                                overwrites allocated blocks instead of committing file-size and allocation
 *                                metadata too (about half the fsync latency measured here) (log.preallocate)
 * @param dedup                   de-duplication keys for topics without their own setting (log.dedup.header,
 *                                log.dedup.window.ms, log.dedup.max.keys); {@link DedupConfig#OFF} by default
 * @param logAppendTime           stamp each appended batch with the server's append time
 *                                (message.timestamp.type=LogAppendTime; log.message.timestamp.type); false =
 *                                CreateTime, the producer's timestamps as sent
 */
public record LogConfig(
    long segmentBytes,
    long segmentMs,
    long retentionMs,
    long retentionBytes,
    long retentionCheckIntervalMs,
    int indexIntervalBytes,
    int maxBatchBytes,
    long producerIdExpirationMs,
    long producerIdExpirationCheckIntervalMs,
    int maxProducersPerPartition,
    long fileDeleteDelayMs,
    boolean preallocate,
    DedupConfig dedup,
    boolean logAppendTime) {

    public LogConfig {
        java.util.Objects.requireNonNull(dedup, "dedup");
    }

    /** Without de-duplication keys ({@link DedupConfig#OFF}). */
    public LogConfig(long segmentBytes, long segmentMs, long retentionMs, long retentionBytes,
                     long retentionCheckIntervalMs, int indexIntervalBytes, int maxBatchBytes,
                     long producerIdExpirationMs, long producerIdExpirationCheckIntervalMs,
                     int maxProducersPerPartition, long fileDeleteDelayMs, boolean preallocate) {
        this(segmentBytes, segmentMs, retentionMs, retentionBytes, retentionCheckIntervalMs, indexIntervalBytes,
            maxBatchBytes, producerIdExpirationMs, producerIdExpirationCheckIntervalMs, maxProducersPerPartition,
            fileDeleteDelayMs, preallocate, DedupConfig.OFF, false);
    }

    /** With CreateTime timestamps. */
    public LogConfig(long segmentBytes, long segmentMs, long retentionMs, long retentionBytes,
                     long retentionCheckIntervalMs, int indexIntervalBytes, int maxBatchBytes,
                     long producerIdExpirationMs, long producerIdExpirationCheckIntervalMs,
                     int maxProducersPerPartition, long fileDeleteDelayMs, boolean preallocate, DedupConfig dedup) {
        this(segmentBytes, segmentMs, retentionMs, retentionBytes, retentionCheckIntervalMs, indexIntervalBytes,
            maxBatchBytes, producerIdExpirationMs, producerIdExpirationCheckIntervalMs, maxProducersPerPartition,
            fileDeleteDelayMs, preallocate, dedup, false);
    }

    /** This configuration with another broker default for de-duplication keys. */
    public LogConfig withDedup(DedupConfig newDedup) {
        return new LogConfig(segmentBytes, segmentMs, retentionMs, retentionBytes, retentionCheckIntervalMs,
            indexIntervalBytes, maxBatchBytes, producerIdExpirationMs, producerIdExpirationCheckIntervalMs,
            maxProducersPerPartition, fileDeleteDelayMs, preallocate, newDedup, logAppendTime);
    }

    /** This configuration with LogAppendTime ({@code true}) or CreateTime timestamps. */
    public LogConfig withLogAppendTime(boolean appendTime) {
        return new LogConfig(segmentBytes, segmentMs, retentionMs, retentionBytes, retentionCheckIntervalMs,
            indexIntervalBytes, maxBatchBytes, producerIdExpirationMs, producerIdExpirationCheckIntervalMs,
            maxProducersPerPartition, fileDeleteDelayMs, preallocate, dedup, appendTime);
    }

    /** Bytes written with zeros at a time when preallocating. */
    public static final int PREALLOCATE_CHUNK_BYTES = 1 << 20;
    /** How far ahead of the write position the active segment is kept zero-filled. */
    public static final int PREALLOCATE_AHEAD_BYTES = 4 << 20;

    /** Kafka's defaults, except where noted in docs/CONFIGURATION.md. */
    public static LogConfig defaults() {
        return new LogConfig(
            1L << 30,
            7L * 24 * 3600 * 1000,
            7L * 24 * 3600 * 1000,
            -1L,
            5L * 60 * 1000,
            4096,
            1024 * 1024 + 12,
            24L * 3600 * 1000,
            10L * 60 * 1000,
            100_000,
            60_000L,
            true);
    }
}
