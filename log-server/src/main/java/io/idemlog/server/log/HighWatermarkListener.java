package io.idemlog.server.log;

/**
 * Told, on the flusher thread and outside any partition lock, that a partition's high watermark advanced.
 * Implementations must be quick and must not block (hand work to another thread).
 */
@FunctionalInterface
public interface HighWatermarkListener {
    void onHighWatermark(Partition partition, long highWatermark);
}
