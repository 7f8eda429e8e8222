/**
 * Idempotence state: per partition, per producer id, the epoch, the last 5 batches and the server time of the last
 * write ({@link io.idemlog.server.state.ProducerStateTable}, whose check follows IDEMPOTENCE.md step by step and
 * returns a {@link io.idemlog.server.state.SequenceOutcome}); its snapshots
 * ({@link io.idemlog.server.state.ProducerSnapshotFile}); and crash-safe producer id allocation
 * ({@link io.idemlog.server.state.ProducerIdAllocator}).
 *
 * <p>Threads: a table belongs to one partition and is used only under that partition's lock (appends, recovery
 * replay, expiry, snapshots); it is not thread-safe and does no I/O. {@code ProducerIdAllocator} is thread-safe.
 * Snapshot files and the {@code producer-ids} file are written through {@link io.idemlog.server.state.DurableFiles}
 * (temporary file, fsync, atomic rename, directory fsync).
 *
 * <p>Two table implementations share one contract test suite: {@link io.idemlog.server.state.SlabProducerStateTable}
 * (production: no object per producer, allocation-free check) and
 * {@link io.idemlog.server.state.ReferenceProducerStateTable} (obviously correct, the oracle of a randomized
 * comparison).
 */
package io.idemlog.server.state;
