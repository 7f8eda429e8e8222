package io.idemlog.server.log;

/**
 * Told that a partition's high watermark advanced: on the thread that advanced it (the flusher, a request thread
 * committing its own appends, or the sealer thread finishing a roll), outside the partition lock but while that
 * thread holds the partition's commit lock. Implementations must be quick and must not block (hand work to another
 * thread).
 */
@FunctionalInterface
public interface HighWatermarkListener {
    void onHighWatermark(Partition partition, long highWatermark);
}
