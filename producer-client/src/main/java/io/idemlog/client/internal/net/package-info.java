/**
 * The only Netty code of the producer: the I/O thread ({@link io.idemlog.client.internal.net.IoLoop}, a one-thread
 * event loop that also runs the sender) and the {@link io.idemlog.client.internal.Transport} over TCP
 * ({@link io.idemlog.client.internal.net.NettyTransport}). Everything here runs on that one thread, except
 * {@code IoLoop.wakeup()}, which any thread may call.
 */
package io.idemlog.client.internal.net;
