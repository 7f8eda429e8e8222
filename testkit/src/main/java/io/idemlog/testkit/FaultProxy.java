package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.KafkaApiNames;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy from 127.0.0.1:&lt;ephemeral&gt; to one Kafka-protocol server that injects faults at the level of
 * Kafka frames: it loses acknowledgements, resets connections in the middle of a request, delays responses past
 * the client's timeout and duplicates requests (see {@link FaultKind}), each at its own rate.
 *
 * <p>How it knows which response is which: per connection, it parses each request's header (api key, version,
 * correlation id; for Produce also {@code acks}, since acks=0 gets no response) and queues what it will do with the
 * matching response; the server answers in request order, so each response meets the head of that queue (its
 * correlation id is checked).
 *
 * <p>Reproducible: each connection draws its decisions from a {@link java.util.Random} seeded from
 * {@link FaultConfig#seed()} and the connection's index in accept order; every request in scope draws the same
 * amount, so the same seed and the same traffic give the same faults. The seed is in {@link #toString()}: print it
 * when a test fails.
 *
 * <p>Metadata responses are rewritten so that every broker is advertised at the proxy's address: the client's
 * connections to "the broker" come back through the proxy (one upstream server only).
 *
 * <pre>{@code
 * FaultConfig faults = FaultConfig.builder(seed).mixed(0.01).delay(Duration.ofMillis(1500)).build();
 * try (FaultProxy proxy = FaultProxy.start(server.address(), faults)) {
 *     producerProps.put("bootstrap.servers", proxy.bootstrap());
 *     ...
 *     System.out.println(proxy);   // seed, rates, and the faults injected per kind
 * }
 * }</pre>
 *
 * <p>Threads: one Netty event loop thread runs every connection (so a connection's state has a single writer);
 * the public methods may be called from any thread.
 */
public final class FaultProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FaultProxy.class);
    private static final int MAX_FRAME_BYTES = 256 * 1024 * 1024;
    private static final int SIZE_PREFIX = 4;
    private static final int EVENTS_KEPT = 256;
    private static final int CONNECT_TIMEOUT_MS = 10_000;
    private static final int HOLD_LIMIT_BYTES = 16 * 1024 * 1024;

    /** What to do with the response to a request. */
    private enum Action {
        FORWARD,
        /** The response to the extra copy of a duplicated request. */
        SWALLOW,
        DROP,
        DELAY,
        /** Swallowed, the connection kept ({@link #loseProduceAnswers}). */
        LOSE
    }

    /** A response the connection expects, in request order. */
    private record Pending(int correlationId, short apiKey, short version, long requestNumber, Action action) {
        /** The API, or null for one the common codec does not know. */
        ApiKey api() {
            return ApiKey.forId(apiKey);
        }
    }

    /** A response on its way to the client, maybe held until {@code releaseAt}. */
    private record Outgoing(ByteBuf frame, boolean delayed, long releaseAtNanos) {
    }

    private final FaultConfig config;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Channel acceptor;
    private final InetSocketAddress address;
    private volatile InetSocketAddress upstream;
    private volatile boolean faultsEnabled = true;
    private volatile boolean paused;
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Map<FaultKind, AtomicLong> faultCounts = new EnumMap<>(FaultKind.class);
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong responses = new AtomicLong();
    private final AtomicLong protocolErrors = new AtomicLong();
    private final AtomicInteger answersToLose = new AtomicInteger();
    private final AtomicLong answersLost = new AtomicLong();
    private final Map<String, AtomicLong> requestVersions = new ConcurrentHashMap<>();
    private final ArrayDeque<String> events = new ArrayDeque<>();

    private FaultProxy(InetSocketAddress upstream, FaultConfig config) {
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.config = Objects.requireNonNull(config, "config");
        for (FaultKind kind : FaultKind.values()) {
            faultCounts.put(kind, new AtomicLong());
        }
        this.group = new NioEventLoopGroup(1, new DefaultThreadFactory("fault-proxy", true));
        this.loop = group.next();
        try {
            this.acceptor = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        Connection c = new Connection(connectionCount.getAndIncrement(), ch);
                        ch.pipeline().addLast(frameDecoder(), new Side(c, true));
                    }
                })
                .bind(Ports.LOOPBACK, 0).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            throw e;
        }
        this.address = (InetSocketAddress) acceptor.localAddress();
        LOG.info("fault proxy {} -> {} started: {}", address, upstream, config);
    }

    /** Starts a proxy on 127.0.0.1 and an ephemeral port, forwarding to {@code upstream}. */
    public static FaultProxy start(InetSocketAddress upstream, FaultConfig config) {
        return new FaultProxy(upstream, config);
    }

    /** The address clients connect to. */
    public InetSocketAddress address() {
        return address;
    }

    /** The proxy's port. */
    public int port() {
        return address.getPort();
    }

    /** "127.0.0.1:port", for a client's bootstrap.servers. */
    public String bootstrap() {
        return Ports.LOOPBACK + ":" + address.getPort();
    }

    /** The configuration, seed included. */
    public FaultConfig config() {
        return config;
    }

    /**
     * Turns fault injection on (the default) or off. Decisions are still drawn while off, so that the n-th request
     * of a connection meets the same fate whenever faults are on.
     */
    public void setFaultsEnabled(boolean enabled) {
        this.faultsEnabled = enabled;
    }

    /** Whether faults are injected. */
    public boolean faultsEnabled() {
        return faultsEnabled;
    }

    /**
     * Stops forwarding in both directions: from when this returns, no request or response crosses the proxy until
     * {@link #resume()}. What arrives meanwhile is read and held, in order ({@link #heldRequests()} counts the
     * requests), up to {@value #HOLD_LIMIT_BYTES} bytes per direction and connection; beyond that the proxy stops
     * reading and TCP flow control holds the rest. New connections are accepted and held too.
     */
    public void pause() {
        paused = true;
        onLoop(() -> { }); // a round trip: a frame being handled while the flag flipped is through when this returns
    }

    /** Forwards what was held during a {@link #pause()} and resumes forwarding. */
    public void resume() {
        paused = false;
        onLoop(() -> connections.forEach(Connection::resume));
    }

    /** Requests held by a {@link #pause()}, over every connection. */
    public int heldRequests() {
        int[] n = {0};
        onLoop(() -> connections.forEach(c -> n[0] += c.pausedRequests.size()));
        return n[0];
    }

    /**
     * Points new connections at another server (for instance one restarted on another port). Open connections
     * stay with the old one; {@link #resetAllConnections()} ends them.
     */
    public void setUpstream(InetSocketAddress upstream) {
        this.upstream = Objects.requireNonNull(upstream, "upstream");
    }

    /** The server new connections go to. */
    public InetSocketAddress upstream() {
        return upstream;
    }

    /**
     * Swallows the answers to the next {@code n} Produce requests that expect one, keeping the connection open: the
     * server did the work, and the client never gets its answer on a connection that lives on (what a broken
     * middlebox or broker would do; TCP itself does not lose bytes). Not counted as an injected fault:
     * {@link #answersLost()} counts them. Independent of the fault plan and of {@link #setFaultsEnabled}.
     */
    public void loseProduceAnswers(int n) {
        answersToLose.addAndGet(n);
    }

    /** Produce answers swallowed so far by {@link #loseProduceAnswers}. */
    public long answersLost() {
        return answersLost.get();
    }

    /** Resets (RST) every open connection, client and server side. Not counted as an injected fault. */
    public void resetAllConnections() {
        onLoop(() -> new ArrayList<>(connections).forEach(c -> c.reset("reset requested by the test")));
    }

    /** How many faults of this kind were injected so far. */
    public long count(FaultKind kind) {
        return faultCounts.get(kind).get();
    }

    /** Injected faults of every kind so far. */
    public Map<FaultKind, Long> counts() {
        Map<FaultKind, Long> snapshot = new EnumMap<>(FaultKind.class);
        faultCounts.forEach((k, v) -> snapshot.put(k, v.get()));
        return snapshot;
    }

    /** Injected faults of all kinds so far. */
    public long totalFaults() {
        long sum = 0;
        for (AtomicLong n : faultCounts.values()) {
            sum += n.get();
        }
        return sum;
    }

    /** Client connections accepted so far. */
    public int connectionsAccepted() {
        return connectionCount.get();
    }

    /** Requests read from clients so far. */
    public long requests() {
        return requests.get();
    }

    /** Responses read from the server so far (including swallowed and dropped ones). */
    /**
     * Requests seen per API and version, e.g. {@code "JOIN_GROUP v5" -> 2} (Kafka's name also for an API idemlog
     * does not implement): which versions a client really negotiated.
     */
    public Map<String, Long> requestVersions() {
        Map<String, Long> out = new java.util.TreeMap<>();
        requestVersions.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    public long responses() {
        return responses.get();
    }

    /** Frames that could not be understood (undecodable header, response without a request): connection reset. */
    public long protocolErrors() {
        return protocolErrors.get();
    }

    /** The last injected faults and protocol errors, oldest first, e.g. {@code conn#2 req#57 PRODUCE v9 ...}. */
    public List<String> recentEvents() {
        synchronized (events) {
            return new ArrayList<>(events);
        }
    }

    /** Stops accepting, resets every connection and stops the event loop. */
    @Override
    public void close() {
        if (group.isShuttingDown()) {
            return;
        }
        acceptor.close().syncUninterruptibly();
        onLoop(() -> new ArrayList<>(connections).forEach(c -> c.reset("proxy closed")));
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        LOG.info("fault proxy {} closed: {}", address, this);
    }

    @Override
    public String toString() {
        return "FaultProxy(" + address.getPort() + " -> " + upstream + ", " + config + ", faults "
            + (faultsEnabled ? "on" : "off") + (paused ? ", paused" : "") + ", injected " + counts()
            + ", connections=" + connectionCount.get() + ", requests=" + requests.get() + ", responses="
            + responses.get() + ", protocolErrors=" + protocolErrors.get() + ")";
    }

    private void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else if (!loop.isShuttingDown()) {
            loop.submit(task).syncUninterruptibly();
        }
    }

    private void event(String text) {
        LOG.debug("fault proxy {}: {}", address.getPort(), text);
        synchronized (events) {
            if (events.size() == EVENTS_KEPT) {
                events.removeFirst();
            }
            events.addLast(text);
        }
    }

    private static LengthFieldBasedFrameDecoder frameDecoder() {
        // frames keep their size prefix: they are forwarded as they came
        return new LengthFieldBasedFrameDecoder(MAX_FRAME_BYTES, 0, SIZE_PREFIX, 0, 0);
    }

    /** Closes with RST where the transport allows it (SO_LINGER 0), so the peer sees a reset, not an orderly end. */
    private static void rst(Channel channel) {
        if (channel != null && channel.isOpen()) {
            try {
                channel.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException ignored) {
                // not a TCP socket, or already closing: a plain close will do
            }
            channel.close();
        }
    }

    /** Flushes what is queued, then closes: the orderly end that mirrors the other side's. */
    private static void closeAfterFlush(Channel channel) {
        if (channel != null && channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else if (channel != null) {
            channel.close();
        }
    }

    /** One client connection and its connection to the server. Confined to the event loop. */
    private final class Connection {
        final int index;
        final FaultPlan plan;
        final Channel client;
        Channel server;
        final ArrayDeque<Pending> pending = new ArrayDeque<>();
        final ArrayDeque<Outgoing> toClient = new ArrayDeque<>();
        final ArrayDeque<ByteBuf> pausedRequests = new ArrayDeque<>();
        long pausedRequestBytes;
        long toClientBytes;
        long requestNumber;
        boolean closed;
        ScheduledFuture<?> flushTimer;

        Connection(int index, Channel client) {
            this.index = index;
            this.plan = new FaultPlan(config, index);
            this.client = client;
        }

        void open() {
            connections.add(this);
            new Bootstrap()
                .group(client.eventLoop())
                .channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MS)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(frameDecoder(), new Side(Connection.this, false));
                    }
                })
                .connect(upstream)
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        LOG.debug("fault proxy {}: conn#{} cannot reach {}: {}", address.getPort(), index, upstream,
                            f.cause().toString());
                        reset("upstream unreachable");
                    } else if (closed) {
                        rst(f.channel());
                    } else {
                        server = f.channel();
                        updateReading();
                    }
                });
        }

        /**
         * Reads from a side only while the other side can take the bytes, and, while paused, only until the held
         * bytes reach the limit.
         */
        void updateReading() {
            if (closed || server == null) {
                return;
            }
            client.config().setAutoRead(server.isWritable() && pausedRequestBytes < HOLD_LIMIT_BYTES);
            server.config().setAutoRead(client.isWritable() && toClientBytes < HOLD_LIMIT_BYTES);
        }

        void resume() {
            while (!closed && !paused && !pausedRequests.isEmpty()) {
                ByteBuf frame = pausedRequests.poll();
                pausedRequestBytes -= frame.readableBytes();
                onRequest(frame);
            }
            flushToClient();
            updateReading();
        }

        void onClientFrame(ByteBuf frame) {
            if (closed) {
                frame.release();
            } else if (paused || !pausedRequests.isEmpty()) {
                pausedRequests.add(frame);
                pausedRequestBytes += frame.readableBytes();
                if (pausedRequestBytes >= HOLD_LIMIT_BYTES) {
                    updateReading();
                }
            } else {
                onRequest(frame);
            }
        }

        private void onRequest(ByteBuf frame) {
            long number = requestNumber++;
            requests.incrementAndGet();
            RequestHeader header;
            boolean expectsResponse = true;
            try {
                WireReader reader = new WireReader(frame.nioBuffer(frame.readerIndex() + SIZE_PREFIX,
                    frame.readableBytes() - SIZE_PREFIX));
                header = RequestHeader.read(reader);
                String name = KafkaApiNames.name(header.apiKey);
                requestVersions.computeIfAbsent((name == null ? "api_key=" + header.apiKey : name) + " v"
                    + header.apiVersion, k -> new AtomicLong()).incrementAndGet();
                if (header.api() == ApiKey.PRODUCE) {
                    expectsResponse = ProduceRequest.peekAcks(reader, header.apiVersion) != 0;
                }
            } catch (ProtocolException e) {
                frame.release();
                protocolError("conn#" + index + " req#" + number + ": undecodable request header: " + e.getMessage());
                return;
            }
            ApiKey api = header.api();
            FaultKind fault = null;
            double cut = 0;
            if (config.scope() == FaultScope.ALL || api == ApiKey.PRODUCE) {
                FaultPlan.Decision decision = plan.next();
                fault = decision.fault();
                cut = decision.cut();
            }
            if (!faultsEnabled || (fault != null && fault.needsResponse() && !expectsResponse)) {
                fault = null;
            }
            if (fault == FaultKind.RESET_MID_REQUEST) {
                int prefix = new FaultPlan.Decision(fault, cut).prefixLength(frame.readableBytes());
                faultCounts.get(fault).incrementAndGet();
                event(describe(number, header.apiKey, header.apiVersion, header.correlationId)
                    + ": RESET_MID_REQUEST after " + prefix + " of " + frame.readableBytes() + " bytes");
                ByteBuf head = frame.retainedSlice(frame.readerIndex(), prefix);
                frame.release();
                abandon();
                Channel s = server;
                s.writeAndFlush(head).addListener(f -> {
                    rst(s);
                    rst(client);
                });
                return;
            }
            if (expectsResponse) {
                Action action = fault == FaultKind.DROP_RESPONSE ? Action.DROP
                    : fault == FaultKind.DELAY_RESPONSE ? Action.DELAY : Action.FORWARD;
                if (api == ApiKey.PRODUCE && answersToLose.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                    action = Action.LOSE;
                }
                pending.add(new Pending(header.correlationId, header.apiKey, header.apiVersion, number, action));
            }
            if (fault == FaultKind.DUPLICATE_REQUEST) {
                faultCounts.get(fault).incrementAndGet();
                event(describe(number, header.apiKey, header.apiVersion, header.correlationId)
                    + ": DUPLICATE_REQUEST");
                if (expectsResponse) {
                    pending.add(new Pending(header.correlationId, header.apiKey, header.apiVersion, number,
                        Action.SWALLOW));
                }
                server.write(frame.retainedDuplicate());
            }
            server.writeAndFlush(frame);
        }

        void onServerFrame(ByteBuf frame) {
            if (closed) {
                frame.release();
                return;
            }
            responses.incrementAndGet();
            int correlationId = frame.getInt(frame.readerIndex() + SIZE_PREFIX);
            Pending p = pending.poll();
            if (p == null || p.correlationId != correlationId) {
                frame.release();
                protocolError("conn#" + index + ": response corr=" + correlationId + " but expected "
                    + (p == null ? "none" : "corr=" + p.correlationId));
                return;
            }
            if (p.api() == ApiKey.METADATA && (p.action == Action.FORWARD || p.action == Action.DELAY)) {
                frame = rewriteMetadata(frame, p);
            }
            switch (p.action) {
                case FORWARD -> toClient(frame, false);
                case SWALLOW -> frame.release();
                case LOSE -> {
                    frame.release();
                    answersLost.incrementAndGet();
                    event(describe(p) + ": answer lost, connection kept");
                }
                case DROP -> {
                    frame.release();
                    faultCounts.get(FaultKind.DROP_RESPONSE).incrementAndGet();
                    event(describe(p) + ": DROP_RESPONSE and reset");
                    reset(null);
                }
                case DELAY -> {
                    faultCounts.get(FaultKind.DELAY_RESPONSE).incrementAndGet();
                    event(describe(p) + ": DELAY_RESPONSE " + config.delay().toMillis() + " ms");
                    toClient(frame, true);
                }
            }
        }

        /** E.g. {@code conn#2 req#57 PRODUCE v9 corr=1234}, for the event log. */
        private String describe(long number, short apiKey, short version, int correlationId) {
            ApiKey api = ApiKey.forId(apiKey);
            return "conn#" + index + " req#" + number + " " + (api == null ? "api_key=" + apiKey : api.name()) + " v"
                + version + " corr=" + correlationId;
        }

        private String describe(Pending p) {
            return describe(p.requestNumber, p.apiKey, p.version, p.correlationId);
        }

        private ByteBuf rewriteMetadata(ByteBuf frame, Pending p) {
            try {
                ByteBuffer rewritten = MetadataRewriter.rewrite(frame.nioBuffer(), p.version, Ports.LOOPBACK,
                    address.getPort());
                frame.release();
                return Unpooled.wrappedBuffer(rewritten);
            } catch (ProtocolException e) {
                protocolErrors.incrementAndGet();
                event("conn#" + index + ": Metadata v" + p.version + " response not rewritten: " + e.getMessage());
                return frame;
            }
        }

        private void toClient(ByteBuf frame, boolean delayed) {
            long releaseAt = delayed ? System.nanoTime() + config.delay().toNanos() : 0L;
            toClient.add(new Outgoing(frame, delayed, releaseAt));
            toClientBytes += frame.readableBytes();
            flushToClient();
            if (toClientBytes >= HOLD_LIMIT_BYTES) {
                updateReading();
            }
        }

        /** Writes the responses at the head of the queue that are due; a held one holds those behind it. */
        void flushToClient() {
            boolean wrote = false;
            while (!closed && !paused && !toClient.isEmpty()) {
                Outgoing head = toClient.peek();
                long wait = head.delayed ? head.releaseAtNanos - System.nanoTime() : 0L;
                if (wait > 0) {
                    if (flushTimer == null) {
                        flushTimer = client.eventLoop().schedule(() -> {
                            flushTimer = null;
                            flushToClient();
                        }, wait, TimeUnit.NANOSECONDS);
                    }
                    break;
                }
                toClient.poll();
                toClientBytes -= head.frame.readableBytes();
                client.write(head.frame);
                wrote = true;
            }
            if (wrote) {
                client.flush();
                updateReading();
            }
        }

        /** Resets both sides (RST). {@code reason} null: an injected fault, already logged. */
        void reset(String reason) {
            if (closed) {
                return;
            }
            if (reason != null) {
                event("conn#" + index + ": reset, " + reason);
            }
            abandon();
            rst(server);
            rst(client);
        }

        /** The orderly end of one side: release what was queued and end the other side the same way. */
        void onSideClosed(Channel side) {
            if (closed) {
                return;
            }
            abandon();
            closeAfterFlush(side == client ? server : client);
        }

        /** Stops everything and releases what was queued; the channels are closed by the caller. */
        private void abandon() {
            closed = true;
            connections.remove(this);
            if (flushTimer != null) {
                flushTimer.cancel(false);
                flushTimer = null;
            }
            pending.clear();
            toClient.forEach(o -> o.frame.release());
            toClient.clear();
            pausedRequests.forEach(ByteBuf::release);
            pausedRequests.clear();
        }

        private void protocolError(String text) {
            protocolErrors.incrementAndGet();
            event(text);
            reset("protocol error");
        }
    }

    /**
     * One side's channel: frames in (requests from the client, responses from the server); the client's side also
     * starts the connection.
     */
    private static final class Side extends ChannelInboundHandlerAdapter {
        private final Connection connection;
        private final boolean client;

        Side(Connection connection, boolean client) {
            this.connection = connection;
            this.client = client;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (client) {
                connection.open();
            } else {
                ctx.fireChannelActive();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (client) {
                connection.onClientFrame((ByteBuf) msg);
            } else {
                connection.onServerFrame((ByteBuf) msg);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            connection.updateReading();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            connection.onSideClosed(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            connection.reset((client ? "client" : "server") + " side: " + cause);
        }
    }
}
