/**
 * The network layer: the Netty listener, Kafka framing, per-connection dispatch and in-order answers. The only
 * package of the server that imports Netty. Everything here runs on the connection's event-loop thread, except
 * answering a request, which any thread may do (the answer is handed to the event loop).
 */
package io.idemlog.server.network;
