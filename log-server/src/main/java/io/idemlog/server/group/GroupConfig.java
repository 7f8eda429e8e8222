package io.idemlog.server.group;

/**
 * The coordinator's settings (Kafka's broker property names, see docs/CONFIGURATION.md).
 *
 * @param minSessionTimeoutMs       group.min.session.timeout.ms: smallest session timeout a member may ask for
 * @param maxSessionTimeoutMs       group.max.session.timeout.ms: largest
 * @param initialRebalanceDelayMs   group.initial.rebalance.delay.ms: how long the first rebalance of an empty group
 *                                  waits for more members (extended by each new member, up to the rebalance timeout)
 * @param maxSize                   group.max.size: members per group
 * @param offsetsRetentionMs        offsets.retention.minutes (in ms): how long the offsets of an empty group (or of a
 *                                  group that only commits) are kept after it emptied (after the commit)
 * @param retentionCheckIntervalMs  offsets.retention.check.interval.ms
 * @param offsetMetadataMaxBytes    offset.metadata.max.bytes: longest commit metadata string (in UTF-8 bytes)
 */
public record GroupConfig(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs, int maxSize,
                          long offsetsRetentionMs, long retentionCheckIntervalMs, int offsetMetadataMaxBytes) {

    /** Kafka's defaults. */
    public static GroupConfig defaults() {
        return new GroupConfig(6000, 1_800_000, 3000, Integer.MAX_VALUE, 10080L * 60_000L, 600_000L, 4096);
    }
}
