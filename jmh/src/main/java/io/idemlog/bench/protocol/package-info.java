/**
 * Benchmarks of {@code io.idemlog.common.protocol}: decoding the Produce request a server receives and encoding
 * the Produce response it sends, in the last non-flexible (v8) and first flexible (v9) versions that kafka-clients
 * and librdkafka use.
 *
 * <p>These paths allocate per request and per partition (the decoded message is an object tree, each RECORDS field
 * a view); what they must never do is allocate or copy per record. {@code -prof gc} shows which it is.
 */
package io.idemlog.bench.protocol;
