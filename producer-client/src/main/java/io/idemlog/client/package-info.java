/**
 * The public API of the idemlog producer: {@link io.idemlog.client.IdemlogProducer} (send, flush, close),
 * {@link io.idemlog.client.ProducerConfig} (Kafka property names, validated at build time), the results
 * ({@link io.idemlog.client.RecordMetadata}, {@link io.idemlog.client.Callback}), the exceptions, all
 * subclasses of {@link io.idemlog.client.ProducerException}, and {@link io.idemlog.client.ProducerMetrics}.
 *
 * <p>Threads: application threads call send(), flush() and close(); futures and callbacks are completed on the
 * producer's single I/O thread. Everything else lives in {@code io.idemlog.client.internal}.
 */
package io.idemlog.client;
