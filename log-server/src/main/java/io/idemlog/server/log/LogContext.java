package io.idemlog.server.log;

import org.agrona.concurrent.EpochClock;

/**
 * What every partition of a store shares: configuration, the server clock, the I/O seam, the flusher that makes
 * appends durable, the storage thread that finishes rolls, who to tell when a high watermark moves, and the storage
 * counters.
 */
record LogContext(LogConfig config, EpochClock clock, StorageIo io, GroupCommitFlusher flusher,
                  SegmentSealer sealer, HighWatermarkListener listener, StorageMetrics metrics) {
}
