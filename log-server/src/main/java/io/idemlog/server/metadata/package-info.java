/**
 * Topic metadata: ids, partition counts and per-topic configs, durable in a checksummed record log plus snapshot
 * ({@link io.idemlog.server.metadata.MetadataStore}) applied by a deterministic state machine
 * ({@link io.idemlog.server.metadata.TopicsImage}), and the extensible table of topic config keys
 * ({@link io.idemlog.server.metadata.TopicConfigDef}) with each topic's effective values
 * ({@link io.idemlog.server.metadata.TopicConfig}).
 */
package io.idemlog.server.metadata;
