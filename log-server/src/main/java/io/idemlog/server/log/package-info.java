/**
 * Storage: segmented partition logs and their sparse indexes, group-commit durability, reads for fetch and
 * ListOffsets, retention and recovery. Knows nothing of Netty; tested with plain buffers and files.
 *
 * <p>What owns what, and which thread touches it:
 * <ul>
 * <li>{@link io.idemlog.server.log.LogManager} (the {@link io.idemlog.server.log.LogStore}): the map of topics
 * (lock-free lookups; creation serialised), the producer id allocator, the storage counters
 * ({@link io.idemlog.server.log.StorageMetrics}), and three threads: {@code idemlog-flusher},
 * {@code idemlog-log-seal} and {@code idemlog-log-maintenance}.</li>
 * <li>{@code PartitionLog} (a {@link io.idemlog.server.log.Partition}): appends from any request thread, serialised
 * by the partition's lock, which guards the producer state, the active segment and the log end; no fsync runs under
 * it. Reads ({@code read}, {@code offsetForTimestamp}, getters) take no lock: they use the volatile segment array
 * and offsets, and positional reads below a segment's published size.</li>
 * <li>Durability has one owner per partition: the holder of its commit lock, who alone fsyncs for durability,
 * advances or fails the high watermark and runs the durability callbacks (and the
 * {@link io.idemlog.server.log.HighWatermarkListener}), outside the partition lock. Who holds it: the flusher
 * ({@code GroupCommitFlusher}, {@code idemlog-flusher}) for its group commits; a request thread committing its own
 * appends ({@code Partition.flushNow}, log.flush.thread=network); the sealer ({@code SegmentSealer},
 * {@code idemlog-log-seal}) finishing a roll (the old segment's fsync, its index, the snapshot, the directory
 * fsync); and close.</li>
 * <li>maintenance ({@code idemlog-log-maintenance}): retention, producer expiry and delayed deletion of removed
 * segments, when the injected clock says they are due.</li>
 * </ul>
 *
 * <p>The append path is ordered so it can later become the apply step of a replicated log: stateless header checks
 * (outside the lock), then under the lock a deterministic decision from (producer state, batch, time) with no I/O,
 * then the write, and only after a successful write the producer state update. Any I/O error takes the partition
 * offline (KAFKA_STORAGE_ERROR) with nothing half-recorded. On-disk formats and recovery: docs/STORAGE.md.
 */
package io.idemlog.server.log;
