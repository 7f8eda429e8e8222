package io.idemlog.server.log;

import org.agrona.concurrent.EpochClock;

/**
 * What every partition of a store shares: configuration, the server clock, the I/O seam, the flusher that makes
 * appends durable, the storage thread that finishes rolls, who to tell when a high watermark moves, and the storage
 * counters.
 *
 * <p>{@code durableByReplication}: cluster mode's replicas, whose durable copy is the partition group's Raft log
 * (fsync'd by a majority before an entry is applied): the flusher's rounds then advance the high watermark to the
 * applied end without an fsync of the segment, which is fsync'd when a snapshot is taken (before the Raft log is
 * purged up to it) and when a rolled segment is sealed; after a crash the segments are cut to the newest snapshot
 * and the Raft log replays the rest (docs/REPLICATION.md 4.3).
 */
record LogContext(LogConfig config, EpochClock clock, StorageIo io, GroupCommitFlusher flusher,
                  SegmentSealer sealer, HighWatermarkListener listener, StorageMetrics metrics,
                  boolean durableByReplication) {
    LogContext(LogConfig config, EpochClock clock, StorageIo io, GroupCommitFlusher flusher, SegmentSealer sealer,
               HighWatermarkListener listener, StorageMetrics metrics) {
        this(config, clock, io, flusher, sealer, listener, metrics, false);
    }
}
