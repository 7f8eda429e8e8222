/**
 * The producer's machinery, free of Netty so that it can be unit-tested step by step with a fake network and a
 * hand-driven clock.
 *
 * <ul>
 *   <li>{@link io.idemlog.client.internal.Accumulator}, {@link io.idemlog.client.internal.BufferPool},
 *       {@link io.idemlog.client.internal.ProducerBatch}: the hand-off from application threads (append, under
 *       a per-partition lock; block for memory) to the I/O thread (drain, expire).</li>
 *   <li>{@link io.idemlog.client.internal.PartitionProducerState}: per-partition producer id, epoch, sequences
 *       and unanswered batches; I/O thread only.</li>
 *   <li>{@link io.idemlog.client.internal.Sender}: the I/O thread's step function over a
 *       {@link io.idemlog.client.internal.Transport}; {@link io.idemlog.client.internal.Metadata} and
 *       {@link io.idemlog.client.internal.Cluster} (written by the I/O thread, read lock-free by senders).</li>
 *   <li>{@link io.idemlog.client.internal.Partitioner}: Kafka's murmur2 key hashing and the sticky choice.</li>
 * </ul>
 */
package io.idemlog.client.internal;
