package io.idemlog.server.network;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.agrona.concurrent.SystemNanoClock;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The listener: a Netty server whose pipeline per connection is frame decoder -> {@link Connection}. Uses the
 * native epoll transport when available (set -Didemlog.transport=nio to force NIO). Request handling runs on
 * the event-loop threads (num.network.threads).
 */
public final class NetworkServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkServer.class);

    /**
     * What the listener needs to know.
     *
     * @param maxRequestBytes queued.max.request.bytes (0 or less: no bound)
     * @param frameTimeoutMs  socket.request.read.timeout.ms (0: no deadline)
     */
    public record Settings(String host, int port, int threads, int maxFrameBytes, int maxQueuedPerConnection,
                           long idleMs, long maxRequestBytes, long frameTimeoutMs, boolean oneAtATimeNonIdempotent) {
        public Settings(String host, int port, int threads, int maxFrameBytes, int maxQueuedPerConnection,
                        long idleMs, long maxRequestBytes, long frameTimeoutMs) {
            this(host, port, threads, maxFrameBytes, maxQueuedPerConnection, idleMs, maxRequestBytes,
                frameTimeoutMs, false);
        }
    }

    /** Lines about refused or closed connections: 20 a second on average, bursts of 100. */
    private static final double LOG_LINES_PER_SECOND = 20;
    private static final int LOG_BURST = 100;

    private final Settings settings;
    private final ApiHandler[] handlers;
    private final NetworkMetrics metrics = new NetworkMetrics();
    private final RequestMemory memory;
    private final ConnectionShared shared;
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private Channel serverChannel;

    public NetworkServer(Settings settings, ApiHandler[] handlers) {
        this.settings = settings;
        this.handlers = handlers.clone();
        this.memory = new RequestMemory(settings.maxRequestBytes());
        this.shared = new ConnectionShared(settings.maxFrameBytes(), settings.frameTimeoutMs(),
            settings.maxQueuedPerConnection(), memory, metrics,
            new LogLimiter(LOG_LINES_PER_SECOND, LOG_BURST, SystemNanoClock.INSTANCE), SystemNanoClock.INSTANCE,
            settings.oneAtATimeNonIdempotent());
    }

    /** The network counters, with the request memory in use. */
    public Map<String, Long> counters() {
        return metrics.snapshot(memory);
    }

    /** The network counters themselves (connections, bytes, requests and errors by API and version, refusals). */
    public NetworkMetrics metrics() {
        return metrics;
    }

    /** Bytes of request memory (queued.max.request.bytes) in use now. */
    public long requestMemoryInUse() {
        return memory.used();
    }

    /** Binds and returns the bound port. */
    public int start() throws InterruptedException {
        boolean epoll = Epoll.isAvailable() && !"nio".equalsIgnoreCase(System.getProperty("idemlog.transport"));
        Class<? extends ServerSocketChannel> channelClass;
        if (epoll) {
            boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("idemlog-accept", true));
            workers = new EpollEventLoopGroup(settings.threads(), new DefaultThreadFactory("idemlog-network", true));
            channelClass = EpollServerSocketChannel.class;
        } else {
            boss = new NioEventLoopGroup(1, new DefaultThreadFactory("idemlog-accept", true));
            workers = new NioEventLoopGroup(settings.threads(), new DefaultThreadFactory("idemlog-network", true));
            channelClass = NioServerSocketChannel.class;
        }
        ServerBootstrap b = new ServerBootstrap()
            .group(boss, workers)
            .channel(channelClass)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.SO_KEEPALIVE, true)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    FrameDecoder frames = new FrameDecoder(shared);
                    ch.pipeline()
                        .addLast("idle", new IdleStateHandler(0, 0, settings.idleMs(), TimeUnit.MILLISECONDS))
                        .addLast("frames", frames)
                        .addLast("requests", new Connection(handlers, shared, frames));
                }
            });
        String host = settings.host().isEmpty() ? "0.0.0.0" : settings.host();
        serverChannel = b.bind(new InetSocketAddress(host, settings.port())).sync().channel();
        int port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        LOG.info("listening on {}:{} ({} transport, {} network threads)", host, port, epoll ? "epoll" : "nio",
            settings.threads());
        return port;
    }

    /** Stops accepting, closes every connection and stops the event loops. */
    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        if (boss != null) {
            boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workers != null) {
            workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
