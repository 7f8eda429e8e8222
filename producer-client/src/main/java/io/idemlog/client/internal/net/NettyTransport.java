package io.idemlog.client.internal.net;

import io.idemlog.client.internal.ApiVersionsNegotiation;
import io.idemlog.client.internal.Node;
import io.idemlog.client.internal.Transport;
import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ApiVersionsRequest;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.Messages;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import org.agrona.collections.Int2ObjectHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * {@link Transport} over Netty: one TCP connection per node, on one event loop (the producer's I/O thread, which
 * also runs the sender, so nothing here is shared between threads).
 *
 * <p>Each new connection first exchanges ApiVersions ({@link ApiVersionsNegotiation}); only then is it ready.
 * Requests are framed as {@code INT32 size, header, body}; record batches are not copied into the frame but
 * added as components that wrap the batch buffers (direct memory, written with a gathering write). Answers are
 * matched to requests by order and checked against their correlation id; a mismatch closes the connection.
 * With acks=0 a Produce request has no answer: its successful write is reported instead, so that the sender
 * frees the batch only once the socket no longer reads it.
 */
public final class NettyTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(NettyTransport.class);
    /** Largest answer accepted; a Produce or Metadata answer is far smaller. */
    private static final int MAX_RESPONSE_SIZE = 100 * 1024 * 1024;

    private enum State { DISCONNECTED, CONNECTING, NEGOTIATING, READY }

    private record Pending(int correlationId, ApiKey api, short version, boolean internal) {
    }

    /**
     * What {@link #poll} reports: an answer (body non-null, or null for an acks=0 write), a lost answer
     * ({@code lost}), or a closed connection ({@code disconnectReason} non-null).
     */
    private record Event(int nodeId, int correlationId, Message body, String disconnectReason, boolean lost) {
        Event(int nodeId, int correlationId, Message body, String disconnectReason) {
            this(nodeId, correlationId, body, disconnectReason, false);
        }
    }

    private final class Connection {
        Node node;
        State state = State.DISCONNECTED;
        Channel channel;
        long backoffUntilMs;
        /** When the last connection attempt started (the reconnect backoff counts from it, as in kafka-clients). */
        long lastAttemptMs = Long.MIN_VALUE / 2;
        int failures;
        short[] versions;
        final ArrayDeque<Pending> pending = new ArrayDeque<>();

        Connection(Node node) {
            this.node = node;
        }
    }

    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final String clientId;
    private final String softwareVersion;
    private final long reconnectBackoffMs;
    private final long reconnectBackoffMaxMs;
    private final int setupTimeoutMs;
    private final LongSupplier clock;
    private final Runnable wakeup;
    private final Int2ObjectHashMap<Connection> connections = new Int2ObjectHashMap<>();
    private final ArrayDeque<Event> events = new ArrayDeque<>();
    private final WireWriter writer = new WireWriter(4096);
    private int nextCorrelationId;

    /**
     * @param bootstrap a bootstrap whose group and channel class are set; this transport adds the handlers
     * @param wakeup    asks the I/O loop to run the sender (called on the event loop)
     */
    public NettyTransport(EventLoop loop, Bootstrap bootstrap, String clientId, long reconnectBackoffMs,
                          int connectTimeoutMs, LongSupplier clock, Runnable wakeup) {
        this(loop, bootstrap, clientId, reconnectBackoffMs, 1000, connectTimeoutMs, -1, -1, clock, wakeup);
    }

    /**
     * @param reconnectBackoffMs    reconnect.backoff.ms: the pause before reconnecting (at least 1 ms here)
     * @param reconnectBackoffMaxMs reconnect.backoff.max.ms: the bound of its doubling after failed attempts
     * @param sendBuffer            SO_SNDBUF, or -1 for the OS default
     * @param receiveBuffer         SO_RCVBUF, or -1 for the OS default
     */
    public NettyTransport(EventLoop loop, Bootstrap bootstrap, String clientId, long reconnectBackoffMs,
                          long reconnectBackoffMaxMs, int connectTimeoutMs, int sendBuffer, int receiveBuffer,
                          LongSupplier clock, Runnable wakeup) {
        this.loop = loop;
        this.clientId = clientId;
        this.reconnectBackoffMs = Math.max(1, reconnectBackoffMs);
        this.reconnectBackoffMaxMs = Math.max(this.reconnectBackoffMs, reconnectBackoffMaxMs);
        this.setupTimeoutMs = connectTimeoutMs;
        this.clock = clock;
        this.wakeup = wakeup;
        Package p = NettyTransport.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        this.softwareVersion = v == null ? "0.1.0" : v;
        this.bootstrap = bootstrap.clone(loop)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs);
        if (sendBuffer >= 0) {
            this.bootstrap.option(ChannelOption.SO_SNDBUF, sendBuffer);
        }
        if (receiveBuffer >= 0) {
            this.bootstrap.option(ChannelOption.SO_RCVBUF, receiveBuffer);
        }
    }

    @Override
    public boolean ready(Node node, long nowMs) {
        Connection c = connections.get(node.id());
        if (c == null) {
            c = new Connection(node);
            connections.put(node.id(), c);
        }
        if (c.state == State.READY) {
            return true;
        }
        if (c.state == State.DISCONNECTED && nowMs >= c.backoffUntilMs) {
            c.node = node;
            connect(c);
        }
        return false;
    }

    @Override
    public boolean isReady(int nodeId) {
        Connection c = connections.get(nodeId);
        return c != null && c.state == State.READY;
    }

    @Override
    public boolean isBackingOff(int nodeId, long nowMs) {
        Connection c = connections.get(nodeId);
        return c != null && c.state == State.DISCONNECTED && nowMs < c.backoffUntilMs;
    }

    @Override
    public short apiVersion(int nodeId, ApiKey api) {
        Connection c = connections.get(nodeId);
        return c == null || c.versions == null ? -1 : c.versions[api.ordinal()];
    }

    private void connect(Connection c) {
        c.state = State.CONNECTING;
        c.lastAttemptMs = clock.getAsLong();
        c.versions = null;
        c.pending.clear();
        ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(MAX_RESPONSE_SIZE, 0, 4, 0, 4),
                    new Handler(c, ch));
            }
        }).connect(c.node.host(), c.node.port());
        Channel ch = f.channel();
        c.channel = ch;
        f.addListener((ChannelFutureListener) future -> {
            if (!future.isSuccess()) {
                onClosed(c, ch, "connect to " + c.node + " failed: " + future.cause());
            }
        });
    }

    @Override
    public int send(int nodeId, ApiKey api, short version, Message body, boolean expectResponse, long nowMs) {
        Connection c = connections.get(nodeId);
        if (c == null || c.state != State.READY) {
            throw new IllegalStateException("node " + nodeId + " is not ready");
        }
        int correlationId = nextCorrelationId();
        ByteBuf frame = encode(c.channel.alloc(), api, version, correlationId, body);
        Channel ch = c.channel;
        if (expectResponse) {
            c.pending.addLast(new Pending(correlationId, api, version, false));
            ch.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        } else {
            ch.writeAndFlush(frame).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess() && c.channel == ch) {
                    events.addLast(new Event(nodeId, correlationId, null, null));
                    wakeup.run();
                } else if (!f.isSuccess()) {
                    f.channel().close();
                }
            });
        }
        return correlationId;
    }

    private int nextCorrelationId() {
        int id = nextCorrelationId;
        nextCorrelationId = id == Integer.MAX_VALUE ? 0 : id + 1;
        return id;
    }

    /**
     * {@code INT32 size | header | body}, with each RECORDS field as a component wrapping the batch's own buffer.
     */
    private ByteBuf encode(ByteBufAllocator alloc, ApiKey api, short version, int correlationId, Message body) {
        writer.reset();
        writer.writeInt32(0);
        new RequestHeader(api, version, correlationId, clientId).write(writer);
        body.write(writer, version);
        writer.putInt32At(0, writer.totalSize() - 4);
        ByteBuffer own = writer.bytes();
        List<WireWriter.RecordsHole> holes = writer.recordsAt();
        ByteBuf ownCopy = alloc.directBuffer(own.remaining());
        ownCopy.writeBytes(own);
        if (holes.isEmpty()) {
            return ownCopy;
        }
        CompositeByteBuf frame = alloc.compositeDirectBuffer(holes.size() * 2 + 1);
        int from = 0;
        for (WireWriter.RecordsHole hole : holes) {
            if (hole.position() > from) {
                frame.addComponent(true, ownCopy.retainedSlice(from, hole.position() - from));
            }
            ByteBuffer records = ((MemoryRecords) hole.records()).buffer().duplicate();
            frame.addComponent(true, Unpooled.wrappedBuffer(records));
            from = hole.position();
        }
        if (ownCopy.writerIndex() > from) {
            frame.addComponent(true, ownCopy.retainedSlice(from, ownCopy.writerIndex() - from));
        }
        ownCopy.release();
        return frame;
    }

    @Override
    public void disconnect(int nodeId) {
        Connection c = connections.get(nodeId);
        if (c == null) {
            return;
        }
        Channel ch = c.channel;
        c.channel = null;
        c.state = State.DISCONNECTED;
        c.versions = null;
        c.pending.clear();
        c.backoffUntilMs = afterReadyConnection(c);
        wakeAt(c.backoffUntilMs);
        if (ch != null) {
            ch.close();
        }
        Iterator<Event> it = events.iterator();
        while (it.hasNext()) {
            if (it.next().nodeId == nodeId) {
                it.remove();
            }
        }
    }

    @Override
    public void poll(Listener listener, long nowMs) {
        Event e;
        while ((e = events.pollFirst()) != null) {
            if (e.disconnectReason != null) {
                listener.onDisconnected(e.nodeId, e.disconnectReason, nowMs);
            } else if (e.lost) {
                listener.onAnswerLost(e.nodeId, e.correlationId, nowMs);
            } else {
                listener.onResponse(e.nodeId, e.correlationId, e.body, nowMs);
            }
        }
    }

    @Override
    public void close() {
        for (Connection c : connections.values()) {
            Channel ch = c.channel;
            c.channel = null;
            c.state = State.DISCONNECTED;
            if (ch != null) {
                ch.close();
            }
        }
        events.clear();
    }

    /** The connection's channel closed or failed to open (not by {@link #disconnect}). */
    private void onClosed(Connection c, Channel ch, String reason) {
        if (c.channel != ch) {
            return;
        }
        boolean wasReady = c.state == State.READY;
        c.channel = null;
        c.state = State.DISCONNECTED;
        c.versions = null;
        c.pending.clear();
        c.failures = wasReady ? 0 : c.failures + 1;
        c.backoffUntilMs = wasReady ? afterReadyConnection(c)
            : saturatedAdd(clock.getAsLong(), jitter(backoff(c.failures)));
        wakeAt(c.backoffUntilMs);
        LOG.debug("{}: {}", c.node, reason);
        events.addLast(new Event(c.node.id(), -1, null, reason));
        wakeup.run();
    }

    /**
     * When a connection that was ready (or is given up by the sender) may be replaced: reconnect.backoff.ms after
     * the attempt that opened it, as kafka-clients counts it. A connection that served for longer is replaced at
     * once, so a reset costs one connection setup instead of a backoff; one that dies as soon as it is ready still
     * spaces the attempts by reconnect.backoff.ms.
     */
    private long afterReadyConnection(Connection c) {
        long now = clock.getAsLong();
        return Math.max(now, saturatedAdd(c.lastAttemptMs, reconnectBackoffMs));
    }

    /** Up to 20 % more, so that clients that lost their connections together do not reconnect together. */
    private static long jitter(long backoffMs) {
        return backoffMs + (long) (backoffMs * 0.2 * java.util.concurrent.ThreadLocalRandom.current().nextDouble());
    }

    /**
     * Runs the sender again when a reconnect backoff ends. Without it a node that failed before it was ready would
     * be retried only if something else woke the sender (an answer, a metadata retry, a linger timer): with fresh
     * metadata and nothing in flight, nothing does, and the node's batches would wait for delivery.timeout.ms.
     */
    /**
     * reconnect.backoff.ms doubled for each failed attempt after the first, up to reconnect.backoff.max.ms (as
     * kafka-clients, without its jitter).
     */
    private long backoff(int failures) {
        return backoff(reconnectBackoffMs, reconnectBackoffMaxMs, failures);
    }

    static long backoff(long baseMs, long maxMs, int failures) {
        long b = baseMs;
        for (int i = 1; i < failures; i++) {
            if (b > maxMs / 2) {
                return maxMs;
            }
            b <<= 1;
        }
        return Math.min(b, maxMs);
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    private void wakeAt(long atMs) {
        long delay = atMs - clock.getAsLong();
        loop.schedule(wakeup, Math.max(1, delay), TimeUnit.MILLISECONDS);
    }

    private void sendApiVersions(Connection c, short version) {
        int correlationId = nextCorrelationId();
        ApiVersionsRequest r = new ApiVersionsRequest();
        r.clientSoftwareName = "idemlog-java";
        r.clientSoftwareVersion = softwareVersion;
        c.pending.addLast(new Pending(correlationId, ApiKey.API_VERSIONS, version, true));
        c.channel.writeAndFlush(encode(c.channel.alloc(), ApiKey.API_VERSIONS, version, correlationId, r))
            .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    private void onApiVersions(Connection c, ByteBuffer body, short sentVersion) {
        ApiVersionsNegotiation.Outcome outcome =
            ApiVersionsNegotiation.onResponse(ApiVersionsNegotiation.parse(body, sentVersion), sentVersion);
        if (outcome instanceof ApiVersionsNegotiation.Retry retry) {
            LOG.debug("{}: ApiVersions v{} unsupported, retrying at v{}", c.node, sentVersion, retry.version());
            sendApiVersions(c, retry.version());
        } else if (outcome instanceof ApiVersionsNegotiation.Done done) {
            c.versions = done.versions();
            c.state = State.READY;
            c.failures = 0;
            LOG.debug("{}: ready, {}", c.node, done);
            wakeup.run();
        } else {
            LOG.warn("{}: {}", c.node, ((ApiVersionsNegotiation.Failed) outcome).reason());
            c.channel.close();
        }
    }

    /** Reads one connection's answers; one instance per channel, so a stale channel's events are ignored. */
    private final class Handler extends ChannelInboundHandlerAdapter {
        private final Connection c;
        private final Channel ch;

        Handler(Connection c, Channel ch) {
            this.c = c;
            this.ch = ch;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (c.channel == ch) {
                c.state = State.NEGOTIATING;
                sendApiVersions(c, ApiVersionsNegotiation.FIRST_VERSION);
                // The setup is bounded like the TCP connect: a peer that accepts but never answers ApiVersions
                // (wedged, or a half-open connection) would otherwise hold every batch for this node until
                // delivery.timeout.ms, since no request is in flight to time out.
                ch.eventLoop().schedule(() -> {
                    if (c.channel == ch && c.state == State.NEGOTIATING) {
                        LOG.warn("{}: no ApiVersions answer within {} ms; closing the connection to retry",
                            c.node, setupTimeoutMs);
                        ch.close();
                    }
                }, setupTimeoutMs, TimeUnit.MILLISECONDS);
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            try {
                if (c.channel != ch) {
                    return;
                }
                ByteBuffer nio = frame.nioBuffer();
                int correlationId = nio.getInt(nio.position());
                skipLostAnswers(correlationId);
                Pending p = c.pending.pollFirst();
                if (p == null || p.correlationId != correlationId) {
                    throw new ProtocolException("answer with correlation id " + correlationId + ", expected "
                        + (p == null ? "none" : p.correlationId));
                }
                WireReader r = new WireReader(nio);
                ResponseHeader.read(r, p.api.responseHeaderVersion(p.version));
                if (p.internal) {
                    onApiVersions(c, nio.duplicate().position(r.position()).slice(), p.version);
                } else {
                    Message body = Messages.readResponse(p.api, r, p.version);
                    events.addLast(new Event(c.node.id(), correlationId, body, null));
                    wakeup.run();
                }
            } catch (RuntimeException e) {
                LOG.warn("{}: bad answer, closing the connection: {}", c.node, e.toString());
                ch.close();
            } finally {
                frame.release();
            }
        }

        /**
         * Answers come in request order on one connection: an answer to a later request proves that the answers
         * to the requests before it will never come (a proxy or a broker lost them). They are reported as lost
         * and the connection is kept. An id no request of the connection has (or an earlier one's, a duplicated
         * answer) is left to the caller's check, which closes the connection.
         */
        private void skipLostAnswers(int correlationId) {
            Pending head = c.pending.peekFirst();
            if (head == null || head.correlationId == correlationId || head.internal) {
                return;
            }
            boolean later = false;
            for (Pending q : c.pending) {
                if (q.correlationId == correlationId) {
                    later = !q.internal;
                    break;
                }
            }
            if (!later) {
                return;
            }
            while (c.pending.peekFirst().correlationId != correlationId) {
                Pending lost = c.pending.pollFirst();
                LOG.debug("{}: answer {} lost (answer {} came first)", c.node, lost.correlationId, correlationId);
                events.addLast(new Event(c.node.id(), lost.correlationId, null, null, true));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            onClosed(c, ch, "connection to " + c.node + " closed");
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("{}: {}", c.node, cause.toString());
            ch.close();
        }
    }

    /** The event loop this transport runs on. */
    public EventLoop loop() {
        return loop;
    }
}
