/**
 * The Kafka wire protocol subset idemlog speaks: framing primitives ({@link io.idemlog.common.protocol.WireReader},
 * {@link io.idemlog.common.protocol.WireWriter}), request and response headers, the API and version table
 * ({@link io.idemlog.common.protocol.ApiKey}) and error codes ({@link io.idemlog.common.protocol.ErrorCode}).
 * Knows nothing of sockets or Netty; every type here is confined to the thread that decodes or encodes a frame.
 */
package io.idemlog.common.protocol;
